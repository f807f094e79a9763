/**
 * A stateful fake of GitHub's REST API and webhooks, served over real HTTP on 127.0.0.1,
 * for the end-to-end scenario, `npm run demo` and the benchmarks. Probot and Octokit talk to
 * it unchanged (`GHE_HOST=<fake.host>` with `GHE_PROTOCOL=http`, or
 * `baseUrl: fake.apiUrl`); tests act as people through the driver methods below, which send
 * the signed webhooks GitHub would. How to drive it: docs/testing.md.
 */
import { ApiServer } from './api-server.js';
import type { RecordedRequest } from './api-server.js';
import { requestMatches } from './fault-injector.js';
import type { FailureOptions, RequestMatcher } from './fault-injector.js';
import { DEFAULT_EVENTS, FakeOperations } from './fake-operations.js';
import { FakeState } from './fake-state.js';
import type { PullRecord, RepoRecord, ReviewState } from './fake-state.js';
import { FakeHttpError, notFound } from './http-error.js';
import { branchSha } from './pull-diff.js';
import { checkRunJson, commentJson, pullJson, reviewJson } from './representations.js';
import type { Json, Urls } from './representations.js';
import { WebhookDeliverer } from './webhook-deliverer.js';
import type { DeliveryMatcher, WebhookDelivery } from './webhook-deliverer.js';

export type { RecordedRequest } from './api-server.js';
export type { DeliveryMatcher, WebhookDelivery } from './webhook-deliverer.js';
export type { FailureOptions, RequestMatcher } from './fault-injector.js';
export { FakeHttpError } from './http-error.js';
export { generateAppPrivateKey } from './app-private-key.js';

export interface FakeGitHubOptions {
  /** Port on 127.0.0.1; default: a free one. */
  readonly port?: number;
  /** Delay added before answering every API request (benchmarks use 50 ms). */
  readonly latencyMs?: number;
  /** Where webhooks go (settable later with `setWebhook`); none: deliveries are recorded only. */
  readonly webhookUrl?: string;
  /** HMAC secret for `X-Hub-Signature-256`; default `development`, like Probot's default. */
  readonly webhookSecret?: string;
  /** Default 4242. */
  readonly appId?: number;
  /** The app's private key; when given, JWT signatures are verified with its public key. */
  readonly privateKeyPem?: string;
  /** App slug, so the bot is `<slug>[bot]`; default `gatehouse`. */
  readonly appSlug?: string;
  /** Webhook events the app subscribes to; default those of Gatehouse's app.yml. */
  readonly events?: readonly string[];
  /** Requests per hour per credential reported in `x-ratelimit-*`; default 5000. */
  readonly rateLimit?: number;
  /** Refuse with 403 once the hourly budget is spent; default false (only counted). */
  readonly enforceRateLimit?: boolean;
  /** Clock for timestamps (created_at, merged_at, submitted_at…); default the system clock. */
  readonly now?: () => Date;
}

export type ReviewVerdict = 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED';

export interface PullRequestSummary {
  readonly number: number;
  readonly headRef: string;
  readonly headSha: string;
  readonly baseRef: string;
  readonly htmlUrl: string;
}

type Files = Readonly<Record<string, string | null>>;

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const fake = new FakeGitHub(options);
  await fake.listen(options.port ?? 0);
  return fake;
}

export class FakeGitHub {
  readonly appId: number;
  readonly #state: FakeState;
  readonly #deliverer: WebhookDeliverer;
  readonly #api: ApiServer;
  readonly #events: readonly string[];
  #urls: Urls = { api: '', web: '' };
  #ops: FakeOperations | null = null;

  constructor(options: FakeGitHubOptions) {
    this.appId = options.appId ?? 4242;
    this.#state = new FakeState({
      appId: this.appId,
      appSlug: options.appSlug ?? 'gatehouse',
      now: options.now ?? (() => new Date()),
    });
    this.#deliverer = new WebhookDeliverer(
      { url: options.webhookUrl ?? null, secret: options.webhookSecret ?? 'development' },
      this.appId,
    );
    this.#api = new ApiServer({
      state: this.#state,
      latencyMs: options.latencyMs ?? 0,
      rateLimit: options.rateLimit ?? 5000,
      enforceRateLimit: options.enforceRateLimit ?? false,
      privateKeyPem: options.privateKeyPem,
    });
    this.#events = options.events ?? DEFAULT_EVENTS;
  }

  async listen(port: number): Promise<void> {
    this.#urls = await this.#api.listen(port, (urls) => {
      this.#ops = new FakeOperations(this.#state, urls, this.#deliverer, this.#events);
      return this.#ops;
    });
  }

  /** Every API request, in arrival order (for counting calls per event). */
  get requests(): RecordedRequest[] {
    return this.#api.requests;
  }

  /** `http://127.0.0.1:PORT`: the web root; `fake.url + '/api/v3'` is the API. */
  get url(): string {
    return this.#urls.web;
  }

  /** The REST base URL, as GitHub Enterprise serves it: `http://127.0.0.1:PORT/api/v3`. */
  get apiUrl(): string {
    return this.#urls.api;
  }

  /** `127.0.0.1:PORT`, for Probot's `GHE_HOST` (with `GHE_PROTOCOL=http`). */
  get host(): string {
    return new URL(this.#urls.web).host;
  }

  /** The app's bot account, the actor of everything done with an installation token. */
  get bot(): { readonly login: string; readonly id: number } {
    return { login: this.#state.bot.login, id: this.#state.bot.id };
  }

  /** Requests that matched no route (answered 404): a test should expect this to be empty. */
  get unhandled(): RecordedRequest[] {
    return this.requests.filter((request) => request.route === null);
  }

  /** Every webhook delivery, including dropped, duplicated and redelivered ones. */
  get deliveries(): readonly WebhookDelivery[] {
    return this.#deliverer.deliveries;
  }

  get webhookSecret(): string {
    return this.#deliverer.target.secret;
  }

  setWebhook(target: { url: string | null; secret?: string }): void {
    this.#deliverer.target.url = target.url;
    if (target.secret !== undefined) this.#deliverer.target.secret = target.secret;
  }

  // ---------------------------------------------------------------- people and organizations

  /** Registers a user; with `token`, `Authorization: token <t>` (or Bearer) acts as them. */
  addUser(
    login: string,
    options: { token?: string; name?: string } = {},
  ): { login: string; id: number } {
    const account = this.#state.ensureUser(login);
    if (options.token !== undefined)
      this.#state.credentials.set(options.token, { kind: 'user', account });
    return { login: account.login, id: account.id };
  }

  addOrg(login: string): { login: string; id: number } {
    const org = this.#state.ensureOrg(login);
    return { login: org.login, id: org.id };
  }

  addTeam(
    org: string,
    slug: string,
    options: { name?: string } = {},
  ): { id: number; slug: string } {
    const team = this.#state.ensureTeam(org, slug, options.name);
    return { id: team.id, slug: team.slug };
  }

  /** Adds (or changes) a team membership; `pending` is an invitation not yet accepted. */
  addTeamMember(
    org: string,
    slug: string,
    login: string,
    state: 'active' | 'pending' = 'active',
    role: 'member' | 'maintainer' = 'member',
  ): void {
    const team = this.#state.ensureTeam(org, slug);
    this.#state.ensureUser(login);
    team.members.set(login.toLowerCase(), { state, role });
    if (state === 'active') this.#state.addOrgMember(org, login);
  }

  removeTeamMember(org: string, slug: string, login: string): void {
    this.#state.team(org, slug)?.members.delete(login.toLowerCase());
  }

  /** Installs the app on an account (createRepo does it for the owner unless told not to). */
  installApp(owner: string): number {
    return this.#state.ensureInstallation(
      this.#state.findAccount(owner) ?? this.#state.ensureOrg(owner),
    ).id;
  }

  installationId(owner: string): number {
    const account = this.#state.account(owner);
    const installation = this.#state.installationFor(account);
    if (installation === undefined) throw new Error(`The app is not installed on ${owner}`);
    return installation.id;
  }

  // ---------------------------------------------------------------- repositories and pushes

  /**
   * Creates a repository whose default branch holds `files` in one initial commit by
   * `author` (default: the owner). The owner becomes an organization unless it was added as
   * a user, and the app is installed on it unless `installApp: false`.
   */
  async createRepo(
    owner: string,
    name: string,
    options: {
      files?: Files;
      defaultBranch?: string;
      author?: string;
      installApp?: boolean;
      private?: boolean;
    } = {},
  ): Promise<{ fullName: string; id: number; headSha: string }> {
    const ownerAccount = this.#state.findAccount(owner) ?? this.#state.ensureOrg(owner);
    if (this.#state.findRepo(`${owner}/${name}`) !== undefined) {
      throw new FakeHttpError(422, 'Repository creation failed.', {
        errors: [
          {
            resource: 'Repository',
            code: 'custom',
            field: 'name',
            message: 'name already exists on this account',
          },
        ],
      });
    }
    if (options.installApp !== false) this.#state.ensureInstallation(ownerAccount);
    const defaultBranch = options.defaultBranch ?? 'main';
    const repo = this.#state.addRepo(ownerAccount, name, defaultBranch, options.private ?? true);
    const author = this.#state.ensureUser(options.author ?? owner);
    const { sha } = this.#operations.commitFiles(repo, {
      branch: defaultBranch,
      files: options.files ?? { 'README.md': `# ${name}\n` },
      message: 'Initial commit',
      author,
    });
    this.#operations.moveRef(repo, `refs/heads/${defaultBranch}`, sha, author);
    return { fullName: repo.fullName, id: repo.id, headSha: sha };
  }

  /**
   * `git push` of one new commit to `branch` (created from `from`, default: the default
   * branch, if it does not exist). `null` deletes a file. Sends `push`, and
   * `pull_request.synchronize` for open PRs from that branch.
   */
  async pushCommit(input: {
    repo: string;
    branch: string;
    files: Files;
    author: string;
    committer?: string;
    message?: string;
    from?: string;
  }): Promise<{ sha: string; before: string | null }> {
    const repo = this.#repo(input.repo);
    const author = this.#state.ensureUser(input.author);
    const result = this.#operations.commitFiles(repo, {
      branch: input.branch,
      files: input.files,
      message: input.message ?? `Update ${Object.keys(input.files).join(', ')}`,
      author,
      committer: input.committer === undefined ? author : this.#state.ensureUser(input.committer),
      ...(input.from === undefined ? {} : { from: input.from }),
    });
    this.#operations.moveRef(repo, `refs/heads/${input.branch}`, result.sha, author);
    return result;
  }

  /** A push straight to the default branch (no PR), e.g. an admin bypassing protection. */
  async pushDirect(input: {
    repo: string;
    files: Files;
    author: string;
    message?: string;
    branch?: string;
  }) {
    const repo = this.#repo(input.repo);
    return this.pushCommit({ ...input, branch: input.branch ?? repo.defaultBranch });
  }

  async deleteBranch(input: { repo: string; branch: string; by: string }): Promise<void> {
    const repo = this.#repo(input.repo);
    if (branchSha(repo, input.branch) === undefined)
      throw new FakeHttpError(422, 'Reference does not exist');
    this.#operations.moveRef(
      repo,
      `refs/heads/${input.branch}`,
      null,
      this.#state.ensureUser(input.by),
    );
  }

  /** Branch protection: merges need these checks green (unless bypassed), stale approvals can be dismissed. */
  protectBranch(
    repo: string,
    branch: string,
    rules: { requiredChecks?: readonly string[]; dismissStaleReviews?: boolean },
  ): void {
    this.#repo(repo).protection.set(branch, {
      requiredChecks: rules.requiredChecks ?? [],
      dismissStaleReviews: rules.dismissStaleReviews ?? false,
    });
  }

  // ---------------------------------------------------------------- pull requests

  async openPullRequest(input: {
    repo: string;
    head: string;
    base?: string;
    title: string;
    body?: string;
    author: string;
    draft?: boolean;
  }): Promise<PullRequestSummary> {
    const repo = this.#repo(input.repo);
    const pull = this.#operations.openPull(repo, {
      head: input.head,
      base: input.base ?? repo.defaultBranch,
      title: input.title,
      body: input.body ?? null,
      draft: input.draft ?? false,
      author: this.#state.ensureUser(input.author),
    });
    return this.#summary(repo, pull);
  }

  async editPullRequest(input: {
    repo: string;
    number: number;
    by: string;
    title?: string;
    body?: string;
  }): Promise<void> {
    const repo = this.#repo(input.repo);
    const changes: { title?: string; body?: string } = {};
    if (input.title !== undefined) changes.title = input.title;
    if (input.body !== undefined) changes.body = input.body;
    this.#operations.updatePull(
      repo,
      this.#pull(repo, input.number),
      changes,
      this.#state.ensureUser(input.by),
    );
  }

  async closePullRequest(input: { repo: string; number: number; by: string }): Promise<void> {
    const repo = this.#repo(input.repo);
    this.#operations.updatePull(
      repo,
      this.#pull(repo, input.number),
      { state: 'closed' },
      this.#state.ensureUser(input.by),
    );
  }

  async reopenPullRequest(input: { repo: string; number: number; by: string }): Promise<void> {
    const repo = this.#repo(input.repo);
    this.#operations.updatePull(
      repo,
      this.#pull(repo, input.number),
      { state: 'open' },
      this.#state.ensureUser(input.by),
    );
  }

  /**
   * A review submitted in the web UI, on the current head unless `commitId` says otherwise.
   * GitHub refuses an approval or change request from the PR author (422).
   */
  async review(input: {
    repo: string;
    number: number;
    reviewer: string;
    state: ReviewVerdict;
    body?: string;
    commitId?: string;
  }): Promise<{ id: number; commitId: string; state: ReviewState }> {
    const repo = this.#repo(input.repo);
    const review = this.#operations.submitReview(repo, this.#pull(repo, input.number), {
      user: this.#state.ensureUser(input.reviewer),
      state: input.state,
      body: input.body ?? '',
      ...(input.commitId === undefined ? {} : { commitId: input.commitId }),
    });
    return { id: review.id, commitId: review.commitId, state: review.state };
  }

  async dismissReview(input: {
    repo: string;
    number: number;
    reviewId: number;
    by: string;
  }): Promise<void> {
    const repo = this.#repo(input.repo);
    const pull = this.#pull(repo, input.number);
    const review = pull.reviews.find((r) => r.id === input.reviewId);
    if (review === undefined) throw notFound();
    this.#operations.dismissReview(repo, pull, review, this.#state.ensureUser(input.by));
  }

  async editReview(input: {
    repo: string;
    number: number;
    reviewId: number;
    body: string;
    by: string;
  }): Promise<void> {
    const repo = this.#repo(input.repo);
    const pull = this.#pull(repo, input.number);
    const review = pull.reviews.find((r) => r.id === input.reviewId);
    if (review === undefined) throw notFound();
    this.#operations.editReview(repo, pull, review, input.body, this.#state.ensureUser(input.by));
  }

  async requestReviewers(input: {
    repo: string;
    number: number;
    by: string;
    reviewers?: readonly string[];
    teams?: readonly string[];
  }): Promise<void> {
    const repo = this.#repo(input.repo);
    this.#operations.requestReviewers(
      repo,
      this.#pull(repo, input.number),
      input.reviewers ?? [],
      input.teams ?? [],
      this.#state.ensureUser(input.by),
    );
  }

  /**
   * The merge button. 405 (as FakeHttpError) when not mergeable or a required check is not
   * green; `bypassProtection` is an admin merging anyway.
   */
  async merge(input: {
    repo: string;
    number: number;
    by: string;
    method?: 'merge' | 'squash';
    bypassProtection?: boolean;
  }): Promise<{ sha: string }> {
    const repo = this.#repo(input.repo);
    const options: { method?: string; bypassProtection?: boolean } = {};
    if (input.method !== undefined) options.method = input.method;
    if (input.bypassProtection !== undefined) options.bypassProtection = input.bypassProtection;
    return this.#operations.merge(
      repo,
      this.#pull(repo, input.number),
      this.#state.ensureUser(input.by),
      options,
    );
  }

  /** Forces `mergeable` (false: conflicts, so merging answers 405; null: back to computed). */
  setMergeable(input: { repo: string; number: number; mergeable: boolean | null }): void {
    this.#pull(this.#repo(input.repo), input.number).mergeableOverride = input.mergeable;
  }

  async comment(input: {
    repo: string;
    number: number;
    by: string;
    body: string;
  }): Promise<{ id: number }> {
    const repo = this.#repo(input.repo);
    const issue = repo.issues.get(input.number);
    if (issue === undefined) throw notFound();
    return {
      id: this.#operations.addComment(repo, issue, input.body, this.#state.ensureUser(input.by)).id,
    };
  }

  /** "Re-run" pressed on a check run: sends `check_run.rerequested`. */
  async rerequestCheckRun(input: { repo: string; checkRunId: number; by: string }): Promise<void> {
    const repo = this.#repo(input.repo);
    const run = repo.checkRuns.get(input.checkRunId);
    if (run === undefined) throw notFound();
    this.#operations.rerequestCheckRun(repo, run, this.#state.ensureUser(input.by));
  }

  // ---------------------------------------------------------------- inspection (not counted)

  pullRequest(repo: string, number: number): Json {
    const record = this.#repo(repo);
    return pullJson(this.#urls, record, this.#state, this.#pull(record, number), true);
  }

  pullRequests(repo: string, state: 'open' | 'closed' | 'all' = 'all'): Json[] {
    const record = this.#repo(repo);
    return [...record.pulls.values()]
      .filter((pull) => state === 'all' || pull.issue.state === state)
      .map((pull) => pullJson(this.#urls, record, this.#state, pull, true));
  }

  reviews(repo: string, number: number): Json[] {
    const record = this.#repo(repo);
    const pull = this.#pull(record, number);
    return pull.reviews.map((review) =>
      reviewJson(this.#urls, record, this.#state, pull, review, false),
    );
  }

  /** All check runs on a commit (SHA or branch), oldest first. */
  checkRuns(repo: string, ref: string): Json[] {
    const record = this.#repo(repo);
    const sha = this.#operations.resolveCommit(record, ref);
    return [...record.checkRuns.values()]
      .filter((run) => run.headSha === sha)
      .map((run) => ({
        ...checkRunJson(this.#urls, record, this.#state, run),
        annotations: run.annotations,
      }));
  }

  /** The newest check run with this name on a commit, as GitHub shows it on the PR. */
  latestCheckRun(repo: string, ref: string, name: string): Json | undefined {
    return this.checkRuns(repo, ref)
      .filter((run) => run['name'] === name)
      .pop();
  }

  comments(repo: string, number: number): Json[] {
    const record = this.#repo(repo);
    return [...record.comments.values()]
      .filter((comment) => comment.issueNumber === number)
      .map((comment) => commentJson(this.#urls, record, this.#state, comment));
  }

  labels(repo: string, number: number): string[] {
    const issue = this.#repo(repo).issues.get(number);
    if (issue === undefined) throw notFound();
    return [...issue.labels];
  }

  branchSha(repo: string, branch: string): string | undefined {
    return branchSha(this.#repo(repo), branch);
  }

  readFile(repo: string, path: string, ref?: string): string | undefined {
    const record = this.#repo(repo);
    const sha = this.#operations.resolveCommit(record, ref ?? record.defaultBranch);
    if (sha === null) return undefined;
    const entry = record.git.lookup(record.git.commit(sha)!.tree, path);
    return entry?.type === 'blob'
      ? record.git.blob(entry.sha)?.content.toString('utf8')
      : undefined;
  }

  listFiles(repo: string, ref?: string): string[] {
    const record = this.#repo(repo);
    const sha = this.#operations.resolveCommit(record, ref ?? record.defaultBranch);
    return sha === null ? [] : [...record.git.flatten(record.git.commit(sha)!.tree).keys()].sort();
  }

  /** Requests matching (see RequestMatcher), or all: the API-call count of a step. */
  countRequests(matcher: RequestMatcher = '*', since = 0): number {
    return this.requests
      .slice(since)
      .filter((r) => requestMatches(matcher, { method: r.method, path: r.path, route: r.route }))
      .length;
  }

  /** Forgets recorded requests and deliveries (state is kept). */
  clearRecords(): void {
    this.requests.length = 0;
    this.#deliverer.deliveries.length = 0;
  }

  // ---------------------------------------------------------------- faults and deliveries

  /** The next `count` requests matching get `status` (5xx, 403 rate limit, …). */
  failNext(matcher: RequestMatcher, status: number, count = 1, options: FailureOptions = {}): void {
    this.#api.faults.add(matcher, status, count, options);
  }

  clearFailures(): void {
    this.#api.faults.clear();
  }

  /** The next delivery (optionally: matching `'event'` / `'event.action'`) is sent twice, same id. */
  duplicateNextDelivery(matcher?: DeliveryMatcher): void {
    this.#deliverer.duplicateNext(matcher);
  }

  /** The next delivery (optionally matching) is lost: recorded as `dropped`, never sent. */
  dropNextDelivery(matcher?: DeliveryMatcher): void {
    this.#deliverer.dropNext(matcher);
  }

  redeliver(deliveryId: string): WebhookDelivery {
    return this.#deliverer.redeliver(deliveryId);
  }

  deliveriesOf(event: string, action?: string): WebhookDelivery[] {
    return this.deliveries.filter(
      (d) => d.event === event && (action === undefined || d.action === action),
    );
  }

  /**
   * Waits until every webhook has been answered and no API request is in flight, repeatedly,
   * since a handler's API calls can cause further webhooks.
   */
  async idle(): Promise<void> {
    for (;;) {
      await this.#deliverer.idle();
      while (this.#api.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 2));
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (!this.#deliverer.busy && this.#api.inFlight === 0) return;
    }
  }

  async close(): Promise<void> {
    await this.#deliverer.idle();
    await this.#api.close();
  }

  // ---------------------------------------------------------------- HTTP

  get #operations(): FakeOperations {
    if (this.#ops === null) throw new Error('FakeGitHub is not listening yet');
    return this.#ops;
  }

  #repo(fullName: string): RepoRecord {
    const repo = this.#state.findRepo(fullName);
    if (repo === undefined) throw new Error(`No repository ${fullName} in the fake`);
    return repo;
  }

  #pull(repo: RepoRecord, number: number): PullRecord {
    const pull = repo.pulls.get(number);
    if (pull === undefined) throw new Error(`No pull request #${number} in ${repo.fullName}`);
    return pull;
  }

  #summary(repo: RepoRecord, pull: PullRecord): PullRequestSummary {
    return {
      number: pull.issue.number,
      headRef: pull.headRef,
      headSha: pull.headSha,
      baseRef: pull.baseRef,
      htmlUrl: `${this.#urls.web}/${repo.fullName}/pull/${pull.issue.number}`,
    };
  }
}
