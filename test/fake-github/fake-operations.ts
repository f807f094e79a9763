/**
 * What happens on GitHub when someone acts: state changes plus the webhooks GitHub sends for
 * them. Both the REST routes (the app acting through its installation token, a developer's
 * CLI through a user token) and the test driver (`fake.openPullRequest(...)`, people acting
 * in the web UI) go through here, so an action has the same effects whoever performs it.
 * Event and payload shapes: https://docs.github.com/en/webhooks/webhook-events-and-payloads
 */
import type {
  Account,
  Annotation,
  CheckRunRecord,
  CommentRecord,
  FakeState,
  IssueRecord,
  LabelRecord,
  PullRecord,
  RepoRecord,
  ReviewRecord,
  ReviewState,
} from './fake-state.js';
import type { GitSignature } from './git-objects.js';
import { FakeHttpError, notFound, validationFailed } from './http-error.js';
import { branchSha, mergeTreeFor, pullBaseSha, pullMergeable } from './pull-diff.js';
import {
  checkRunJson,
  commentJson,
  issueJson,
  labelJson,
  orgJson,
  pullJson,
  pushRepoJson,
  repoJson,
  reviewJson,
  userJson,
} from './representations.js';
import type { Json, Urls } from './representations.js';
import type { WebhookDeliverer } from './webhook-deliverer.js';

export const ZERO_SHA = '0000000000000000000000000000000000000000';

/** The webhook events the Gatehouse app subscribes to in `app.yml` (issue 3). */
export const DEFAULT_EVENTS: readonly string[] = [
  'check_run',
  'pull_request',
  'pull_request_review',
  'push',
];

/** GitHub caps the `commits` array of a push payload. See https://docs.github.com/en/webhooks/webhook-events-and-payloads#push */
const MAX_PUSH_COMMITS = 2048;
/** GitHub rejects more than 50 annotations per check run request. See https://docs.github.com/en/rest/checks/runs#update-a-check-run */
const MAX_ANNOTATIONS_PER_REQUEST = 50;
const CONCLUSIONS = new Set([
  'action_required',
  'cancelled',
  'failure',
  'neutral',
  'success',
  'skipped',
  'timed_out',
]);

export interface CheckRunInput {
  readonly name?: unknown;
  readonly head_sha?: unknown;
  readonly status?: unknown;
  readonly conclusion?: unknown;
  readonly started_at?: unknown;
  readonly completed_at?: unknown;
  readonly details_url?: unknown;
  readonly external_id?: unknown;
  readonly output?: unknown;
}

export class FakeOperations {
  readonly #state: FakeState;
  readonly #urls: Urls;
  readonly #deliverer: WebhookDeliverer;
  readonly #events: ReadonlySet<string>;

  constructor(
    state: FakeState,
    urls: Urls,
    deliverer: WebhookDeliverer,
    events: readonly string[],
  ) {
    this.#state = state;
    this.#urls = urls;
    this.#deliverer = deliverer;
    this.#events = new Set(events);
  }

  signature(account: Account): GitSignature {
    return {
      name: account.name,
      email: account.email,
      date: this.#state.stamp(),
      login: account.login,
    };
  }

  /** Commits file changes on top of `branch` (created from `from`, default branch by default). */
  commitFiles(
    repo: RepoRecord,
    input: {
      branch: string;
      from?: string;
      files: Readonly<Record<string, string | Buffer | null>>;
      message: string;
      author: Account;
      committer?: Account;
    },
  ): { sha: string; before: string | null } {
    const before = branchSha(repo, input.branch) ?? null;
    const parent =
      before ?? (input.from === undefined ? null : this.resolveCommit(repo, input.from));
    if (before === null && input.from !== undefined && parent === null) throw notFound();
    const start = parent ?? branchSha(repo, repo.defaultBranch) ?? null;
    const baseTree = start === null ? null : repo.git.commit(start)!.tree;
    const tree = repo.git.applyChanges(baseTree, input.files);
    const sha = repo.git.putCommit({
      tree,
      parents: start === null ? [] : [start],
      author: this.signature(input.author),
      committer: this.signature(input.committer ?? input.author),
      message: input.message,
    });
    return { sha, before };
  }

  /** A branch name, full ref, tag or (abbreviated) SHA → commit SHA. */
  resolveCommit(repo: RepoRecord, ref: string): string | null {
    const direct =
      repo.refs.get(ref) ?? repo.refs.get(`refs/heads/${ref}`) ?? repo.refs.get(`refs/tags/${ref}`);
    if (direct !== undefined) return direct;
    if (/^[0-9a-f]{40}$/.test(ref)) return repo.git.commit(ref) === undefined ? null : ref;
    return null;
  }

  /**
   * Points a ref at a commit (null deletes it) and sends what a `git push` sends: `push`
   * (plus `create`/`delete` for branches), and `pull_request.synchronize` for each open PR
   * whose head branch moved.
   */
  moveRef(
    repo: RepoRecord,
    ref: string,
    sha: string | null,
    pusher: Account,
    forced = false,
  ): void {
    const before = repo.refs.get(ref) ?? null;
    if (before === sha) return;
    if (sha === null) repo.refs.delete(ref);
    else repo.refs.set(ref, sha);
    repo.pushedAt = this.#state.stamp();
    const branch = ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : null;
    this.#emitPush(repo, ref, before, sha, pusher, forced);
    if (branch === null) return;
    if (before === null) {
      this.#emit(repo, 'create', pusher, {
        ref: branch,
        ref_type: 'branch',
        master_branch: repo.defaultBranch,
        description: null,
        pusher_type: 'user',
      });
    }
    if (sha === null) {
      this.#emit(repo, 'delete', pusher, { ref: branch, ref_type: 'branch', pusher_type: 'user' });
      return;
    }
    for (const pull of repo.pulls.values()) {
      if (pull.issue.state !== 'open' || pull.headRef !== branch || pull.headSha === sha) continue;
      const previous = pull.headSha;
      pull.headSha = sha;
      pull.issue.updatedAt = this.#state.stamp();
      if (repo.protection.get(pull.baseRef)?.dismissStaleReviews === true) {
        for (const review of pull.reviews) {
          if (review.state === 'APPROVED')
            this.dismissReview(repo, pull, review, this.#state.webFlow);
        }
      }
      this.#emitPull(repo, pull, 'synchronize', pusher, { before: previous, after: sha });
    }
  }

  openPull(
    repo: RepoRecord,
    input: {
      head: string;
      base: string;
      title: string;
      body: string | null;
      draft: boolean;
      author: Account;
    },
  ): PullRecord {
    const head = input.head.includes(':')
      ? input.head.slice(input.head.indexOf(':') + 1)
      : input.head;
    const headSha = branchSha(repo, head);
    const baseHead = branchSha(repo, input.base);
    if (baseHead === undefined)
      throw validationFailed([{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
    if (headSha === undefined)
      throw validationFailed([{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
    for (const pull of repo.pulls.values()) {
      if (pull.issue.state === 'open' && pull.headRef === head && pull.baseRef === input.base) {
        throw validationFailed([
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `A pull request already exists for ${repo.owner.login}:${head}.`,
          },
        ]);
      }
    }
    if (repo.git.isAncestor(headSha, baseHead)) {
      throw validationFailed([
        {
          resource: 'PullRequest',
          code: 'custom',
          message: `No commits between ${input.base} and ${head}`,
        },
      ]);
    }
    const issue = this.#newIssue(repo, input.title, input.body, input.author, true);
    const pull: PullRecord = {
      issue,
      id: this.#state.nextId('issue'),
      headRef: head,
      headSha,
      baseRef: input.base,
      frozenBaseSha: null,
      draft: input.draft,
      merged: false,
      mergedAt: null,
      mergedBy: null,
      mergeCommitSha: null,
      reviews: [],
      requestedReviewers: [],
      requestedTeams: [],
      mergeableOverride: null,
    };
    repo.pulls.set(issue.number, pull);
    this.#emitPull(repo, pull, 'opened', input.author);
    return pull;
  }

  createIssue(repo: RepoRecord, title: string, body: string | null, author: Account): IssueRecord {
    const issue = this.#newIssue(repo, title, body, author, false);
    this.#emit(repo, 'issues', author, {
      action: 'opened',
      issue: issueJson(this.#urls, repo, this.#state, issue),
    });
    return issue;
  }

  /** PATCH of a PR: title/body edits, close, reopen; each sends its own `pull_request` action. */
  updatePull(
    repo: RepoRecord,
    pull: PullRecord,
    changes: { title?: string; body?: string | null; state?: 'open' | 'closed' },
    actor: Account,
  ): void {
    const issue = pull.issue;
    const edits: Json = {};
    if (changes.title !== undefined && changes.title !== issue.title) {
      edits['title'] = { from: issue.title };
      issue.title = changes.title;
    }
    if (changes.body !== undefined && changes.body !== issue.body) {
      edits['body'] = { from: issue.body ?? '' };
      issue.body = changes.body;
    }
    if (Object.keys(edits).length > 0) {
      issue.updatedAt = this.#state.stamp();
      this.#emitPull(repo, pull, 'edited', actor, { changes: edits });
    }
    if (changes.state === 'closed' && issue.state === 'open') {
      pull.frozenBaseSha = pullBaseSha(repo, pull);
      issue.state = 'closed';
      issue.closedAt = issue.updatedAt = this.#state.stamp();
      this.#emitPull(repo, pull, 'closed', actor);
    } else if (changes.state === 'open' && issue.state === 'closed') {
      if (pull.merged)
        throw validationFailed([
          {
            resource: 'PullRequest',
            code: 'custom',
            message: 'Cannot reopen a merged pull request',
          },
        ]);
      if (branchSha(repo, pull.headRef) === undefined) {
        throw validationFailed([
          {
            resource: 'PullRequest',
            code: 'custom',
            message: 'state cannot be changed. The head branch was deleted.',
          },
        ]);
      }
      pull.frozenBaseSha = null;
      pull.headSha = branchSha(repo, pull.headRef)!;
      issue.state = 'open';
      issue.closedAt = null;
      issue.updatedAt = this.#state.stamp();
      this.#emitPull(repo, pull, 'reopened', actor);
    }
  }

  requestReviewers(
    repo: RepoRecord,
    pull: PullRecord,
    logins: readonly string[],
    teams: readonly string[],
    actor: Account,
  ): void {
    for (const login of logins) {
      const reviewer = this.#state.findAccount(login);
      if (reviewer === undefined) {
        throw new FakeHttpError(
          422,
          'Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the repository.',
        );
      }
      if (reviewer.id === pull.issue.user.id) {
        throw new FakeHttpError(422, 'Review cannot be requested from pull request author.');
      }
      if (pull.requestedReviewers.some((r) => r.id === reviewer.id)) continue;
      pull.requestedReviewers.push(reviewer);
      this.#emitPull(repo, pull, 'review_requested', actor, {
        requested_reviewer: userJson(this.#urls, reviewer),
      });
    }
    for (const slug of teams) {
      const team = this.#state.team(repo.owner.login, slug);
      if (team === undefined) {
        throw new FakeHttpError(
          422,
          'Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the repository.',
        );
      }
      if (pull.requestedTeams.some((t) => t.id === team.id)) continue;
      pull.requestedTeams.push(team);
      this.#emitPull(repo, pull, 'review_requested', actor, {
        requested_team: { id: team.id, name: team.name, slug: team.slug },
      });
    }
  }

  submitReview(
    repo: RepoRecord,
    pull: PullRecord,
    input: { user: Account; state: ReviewState; body: string; commitId?: string },
  ): ReviewRecord {
    if (
      input.user.id === pull.issue.user.id &&
      (input.state === 'APPROVED' || input.state === 'CHANGES_REQUESTED')
    ) {
      // GitHub refuses these from the PR author, in the UI and in the API.
      const what = input.state === 'APPROVED' ? 'approve' : 'request changes on';
      throw new FakeHttpError(422, 'Unprocessable Entity', {
        errors: [`Review Can not ${what} your own pull request`],
      });
    }
    const commitId = input.commitId ?? pull.headSha;
    if (repo.git.commit(commitId) === undefined) {
      throw new FakeHttpError(422, 'Unprocessable Entity', {
        errors: ['Commit id is not part of the pull request'],
      });
    }
    const review: ReviewRecord = {
      id: this.#state.nextId('review'),
      user: input.user,
      body: input.body,
      state: input.state,
      commitId,
      submittedAt: input.state === 'PENDING' ? null : this.#state.stamp(),
    };
    pull.reviews.push(review);
    // A submitted review answers a pending review request from that person.
    pull.requestedReviewers = pull.requestedReviewers.filter((r) => r.id !== input.user.id);
    if (input.state !== 'PENDING') this.#emitReview(repo, pull, review, 'submitted', input.user);
    return review;
  }

  /** The dismissal message is required by the API but not part of any payload, so not kept. */
  dismissReview(repo: RepoRecord, pull: PullRecord, review: ReviewRecord, actor: Account): void {
    if (review.state !== 'APPROVED' && review.state !== 'CHANGES_REQUESTED') {
      const what =
        review.state === 'PENDING'
          ? 'pending'
          : review.state === 'DISMISSED'
            ? 'dismissed'
            : 'commented';
      throw new FakeHttpError(422, `Can not dismiss a ${what} pull request review`);
    }
    review.state = 'DISMISSED';
    this.#emitReview(repo, pull, review, 'dismissed', actor);
  }

  editReview(
    repo: RepoRecord,
    pull: PullRecord,
    review: ReviewRecord,
    body: string,
    actor: Account,
  ): void {
    const from = review.body;
    review.body = body;
    this.#emitReview(repo, pull, review, 'edited', actor, { changes: { body: { from } } });
  }

  /**
   * `PUT /pulls/{n}/merge`. Refusals use GitHub's statuses: 405 not mergeable (closed,
   * conflicts, protection), 409 when `sha` is not the head any more.
   * See https://docs.github.com/en/rest/pulls/pulls#merge-a-pull-request
   */
  merge(
    repo: RepoRecord,
    pull: PullRecord,
    actor: Account,
    options: {
      method?: string;
      sha?: string;
      title?: string;
      message?: string;
      bypassProtection?: boolean;
    },
  ): { sha: string } {
    if (pull.merged || pull.issue.state !== 'open')
      throw new FakeHttpError(405, 'Pull Request is not mergeable');
    if (options.sha !== undefined && options.sha !== pull.headSha) {
      throw new FakeHttpError(409, 'Head branch was modified. Review and try the merge again.');
    }
    const method = options.method ?? 'merge';
    if (method === 'rebase')
      throw new FakeHttpError(405, 'Rebase merges are not allowed on this repository.');
    if (method !== 'merge' && method !== 'squash') {
      throw validationFailed([{ resource: 'PullRequest', field: 'merge_method', code: 'invalid' }]);
    }
    if (pullMergeable(repo, pull) !== true)
      throw new FakeHttpError(405, 'Pull Request is not mergeable');
    if (options.bypassProtection !== true) this.#checkProtection(repo, pull);
    const baseHead = branchSha(repo, pull.baseRef)!;
    const outcome = mergeTreeFor(repo, baseHead, pull.headSha);
    if (!outcome.clean) throw new FakeHttpError(405, 'Pull Request is not mergeable');
    const number = pull.issue.number;
    const sha = repo.git.putCommit({
      tree: outcome.tree,
      parents: method === 'merge' ? [baseHead, pull.headSha] : [baseHead],
      author: this.signature(method === 'squash' ? pull.issue.user : actor),
      committer: this.signature(this.#state.webFlow),
      message:
        method === 'merge'
          ? `${options.title ?? `Merge pull request #${number} from ${repo.owner.login}/${pull.headRef}`}\n\n${options.message ?? pull.issue.title}`
          : `${options.title ?? `${pull.issue.title} (#${number})`}\n\n${options.message ?? ''}`,
    });
    pull.frozenBaseSha = baseHead;
    pull.merged = true;
    pull.mergedAt = this.#state.stamp();
    pull.mergedBy = actor;
    pull.mergeCommitSha = sha;
    pull.issue.state = 'closed';
    pull.issue.closedAt = pull.issue.updatedAt = pull.mergedAt;
    this.#emitPull(repo, pull, 'closed', actor);
    this.moveRef(repo, `refs/heads/${pull.baseRef}`, sha, actor);
    return { sha };
  }

  createCheckRun(repo: RepoRecord, input: CheckRunInput): CheckRunRecord {
    if (typeof input.name !== 'string' || input.name === '') {
      throw validationFailed([{ resource: 'CheckRun', code: 'missing_field', field: 'name' }]);
    }
    if (typeof input.head_sha !== 'string' || repo.git.commit(input.head_sha) === undefined) {
      throw new FakeHttpError(422, `No commit found for SHA: ${String(input.head_sha)}`);
    }
    let suite = repo.checkSuites.get(input.head_sha);
    if (suite === undefined) {
      suite = this.#state.nextId('suite');
      repo.checkSuites.set(input.head_sha, suite);
    }
    const run: CheckRunRecord = {
      id: this.#state.nextId('check'),
      headSha: input.head_sha,
      name: input.name,
      status: 'queued',
      conclusion: null,
      startedAt: this.#state.stamp(),
      completedAt: null,
      output: { title: null, summary: null, text: null },
      annotations: [],
      externalId: '',
      detailsUrl: null,
      checkSuiteId: suite,
    };
    this.#applyCheckRun(run, input);
    repo.checkRuns.set(run.id, run);
    this.#emit(repo, 'check_run', this.#state.bot, {
      action: 'created',
      check_run: checkRunJson(this.#urls, repo, this.#state, run),
    });
    if (run.status === 'completed') {
      this.#emit(repo, 'check_run', this.#state.bot, {
        action: 'completed',
        check_run: checkRunJson(this.#urls, repo, this.#state, run),
      });
    }
    return run;
  }

  updateCheckRun(repo: RepoRecord, run: CheckRunRecord, input: CheckRunInput): void {
    const wasCompleted = run.status === 'completed';
    this.#applyCheckRun(run, input);
    if (!wasCompleted && run.status === 'completed') {
      this.#emit(repo, 'check_run', this.#state.bot, {
        action: 'completed',
        check_run: checkRunJson(this.#urls, repo, this.#state, run),
      });
    }
  }

  /** Someone pressed "Re-run" on the check in the PR's Checks tab. */
  rerequestCheckRun(repo: RepoRecord, run: CheckRunRecord, actor: Account): void {
    this.#emit(repo, 'check_run', actor, {
      action: 'rerequested',
      check_run: checkRunJson(this.#urls, repo, this.#state, run),
    });
  }

  addComment(repo: RepoRecord, issue: IssueRecord, body: string, actor: Account): CommentRecord {
    const now = this.#state.stamp();
    const comment: CommentRecord = {
      id: this.#state.nextId('comment'),
      issueNumber: issue.number,
      user: actor,
      body,
      createdAt: now,
      updatedAt: now,
    };
    repo.comments.set(comment.id, comment);
    this.#emitComment(repo, issue, comment, 'created', actor);
    return comment;
  }

  editComment(repo: RepoRecord, comment: CommentRecord, body: string, actor: Account): void {
    const from = comment.body;
    comment.body = body;
    comment.updatedAt = this.#state.stamp();
    this.#emitComment(repo, repo.issues.get(comment.issueNumber)!, comment, 'edited', actor, {
      changes: { body: { from } },
    });
  }

  deleteComment(repo: RepoRecord, comment: CommentRecord, actor: Account): void {
    repo.comments.delete(comment.id);
    this.#emitComment(repo, repo.issues.get(comment.issueNumber)!, comment, 'deleted', actor);
  }

  createLabel(
    repo: RepoRecord,
    name: string,
    color: string,
    description: string | null,
    actor: Account,
  ): LabelRecord {
    if (repo.labels.has(name.toLowerCase())) {
      throw validationFailed([{ resource: 'Label', code: 'already_exists', field: 'name' }]);
    }
    const label: LabelRecord = { id: this.#state.nextId('label'), name, color, description };
    repo.labels.set(name.toLowerCase(), label);
    this.#emit(repo, 'label', actor, {
      action: 'created',
      label: labelJson(this.#urls, repo, label),
    });
    return label;
  }

  /** Adds labels to an issue or PR, creating unknown ones like GitHub does. */
  addLabels(repo: RepoRecord, issue: IssueRecord, names: readonly string[], actor: Account): void {
    for (const name of names) {
      const label =
        repo.labels.get(name.toLowerCase()) ?? this.createLabel(repo, name, 'ededed', null, actor);
      if (issue.labels.some((l) => l.toLowerCase() === label.name.toLowerCase())) continue;
      issue.labels.push(label.name);
      issue.updatedAt = this.#state.stamp();
      this.#emitLabeled(repo, issue, label, 'labeled', actor);
    }
  }

  removeLabel(repo: RepoRecord, issue: IssueRecord, name: string, actor: Account): void {
    const index = issue.labels.findIndex((l) => l.toLowerCase() === name.toLowerCase());
    if (index === -1) throw new FakeHttpError(404, 'Label does not exist');
    const [removed] = issue.labels.splice(index, 1);
    issue.updatedAt = this.#state.stamp();
    const label = repo.labels.get(removed!.toLowerCase());
    if (label !== undefined) this.#emitLabeled(repo, issue, label, 'unlabeled', actor);
  }

  setLabels(repo: RepoRecord, issue: IssueRecord, names: readonly string[], actor: Account): void {
    const wanted = new Set(names.map((n) => n.toLowerCase()));
    for (const existing of [...issue.labels]) {
      if (!wanted.has(existing.toLowerCase())) this.removeLabel(repo, issue, existing, actor);
    }
    this.addLabels(repo, issue, names, actor);
  }

  #checkProtection(repo: RepoRecord, pull: PullRecord): void {
    const protection = repo.protection.get(pull.baseRef);
    if (protection === undefined) return;
    for (const name of protection.requiredChecks) {
      const runs = [...repo.checkRuns.values()].filter(
        (r) => r.headSha === pull.headSha && r.name === name,
      );
      const latest = runs[runs.length - 1];
      if (latest === undefined)
        throw new FakeHttpError(405, `Required status check "${name}" is expected.`);
      if (latest.status !== 'completed')
        throw new FakeHttpError(405, `Required status check "${name}" is in progress.`);
      if (!['success', 'neutral', 'skipped'].includes(latest.conclusion ?? '')) {
        throw new FakeHttpError(405, `Required status check "${name}" is failing.`);
      }
    }
  }

  #applyCheckRun(run: CheckRunRecord, input: CheckRunInput): void {
    if (typeof input.name === 'string' && input.name !== '') run.name = input.name;
    if (typeof input.external_id === 'string') run.externalId = input.external_id;
    if (typeof input.details_url === 'string') run.detailsUrl = input.details_url;
    if (typeof input.started_at === 'string') run.startedAt = input.started_at;
    if (input.status !== undefined) {
      if (
        !['queued', 'in_progress', 'completed', 'waiting', 'requested', 'pending'].includes(
          String(input.status),
        )
      ) {
        throw validationFailed([{ resource: 'CheckRun', code: 'invalid', field: 'status' }]);
      }
      run.status = input.status as CheckRunRecord['status'];
      if (run.status !== 'completed') run.conclusion = null;
    }
    if (input.conclusion !== undefined && input.conclusion !== null) {
      if (!CONCLUSIONS.has(String(input.conclusion))) {
        throw validationFailed([{ resource: 'CheckRun', code: 'invalid', field: 'conclusion' }]);
      }
      // "Providing conclusion will automatically set the status parameter to completed."
      run.conclusion = String(input.conclusion);
      run.status = 'completed';
    }
    if (run.status === 'completed') {
      if (run.conclusion === null) {
        throw validationFailed([
          { resource: 'CheckRun', code: 'missing_field', field: 'conclusion' },
        ]);
      }
      run.completedAt =
        typeof input.completed_at === 'string'
          ? input.completed_at
          : (run.completedAt ?? this.#state.stamp());
    } else {
      run.completedAt = null;
    }
    if (input.output !== undefined) {
      const output = input.output as Record<string, unknown>;
      if (typeof output['title'] !== 'string' || typeof output['summary'] !== 'string') {
        throw validationFailed([{ resource: 'CheckRun', code: 'missing_field', field: 'output' }]);
      }
      // https://docs.github.com/en/rest/checks/runs: summary and text are capped at 65535 characters.
      for (const key of ['summary', 'text'] as const) {
        const value = output[key];
        if (typeof value === 'string' && value.length > 65_535) {
          throw validationFailed([
            {
              resource: 'CheckRun',
              code: 'custom',
              field: `output.${key}`,
              message: `output.${key} is too long (maximum is 65535 characters)`,
            },
          ]);
        }
      }
      run.output = {
        title: output['title'],
        summary: output['summary'],
        text: typeof output['text'] === 'string' ? output['text'] : null,
      };
      const annotations = Array.isArray(output['annotations'])
        ? (output['annotations'] as Annotation[])
        : [];
      if (annotations.length > MAX_ANNOTATIONS_PER_REQUEST) {
        throw validationFailed([
          {
            resource: 'CheckRun',
            code: 'custom',
            field: 'output.annotations',
            message: 'Only 50 annotations are allowed per request',
          },
        ]);
      }
      for (const a of annotations) {
        if (
          typeof a.path !== 'string' ||
          typeof a.start_line !== 'number' ||
          typeof a.end_line !== 'number' ||
          typeof a.message !== 'string' ||
          !['notice', 'warning', 'failure'].includes(a.annotation_level)
        ) {
          throw validationFailed([
            { resource: 'CheckRun', code: 'invalid', field: 'output.annotations' },
          ]);
        }
      }
      // Annotations accumulate across updates of the same run, as on GitHub.
      run.annotations.push(...annotations);
    }
  }

  #newIssue(
    repo: RepoRecord,
    title: string,
    body: string | null,
    author: Account,
    isPull: boolean,
  ): IssueRecord {
    if (title.trim() === '')
      throw validationFailed([
        { resource: isPull ? 'PullRequest' : 'Issue', code: 'missing_field', field: 'title' },
      ]);
    const now = this.#state.stamp();
    const issue: IssueRecord = {
      number: repo.nextNumber++,
      id: this.#state.nextId('issue'),
      title,
      body,
      user: author,
      state: 'open',
      labels: [],
      createdAt: now,
      updatedAt: now,
      closedAt: null,
      isPull,
    };
    repo.issues.set(issue.number, issue);
    return issue;
  }

  #emitPull(
    repo: RepoRecord,
    pull: PullRecord,
    action: string,
    sender: Account,
    extra: Json = {},
  ): void {
    if (!this.#wants(repo, 'pull_request')) return;
    this.#emit(repo, 'pull_request', sender, {
      action,
      number: pull.issue.number,
      ...extra,
      pull_request: pullJson(this.#urls, repo, this.#state, pull, true),
    });
  }

  #emitReview(
    repo: RepoRecord,
    pull: PullRecord,
    review: ReviewRecord,
    action: string,
    sender: Account,
    extra: Json = {},
  ): void {
    if (!this.#wants(repo, 'pull_request_review')) return;
    this.#emit(repo, 'pull_request_review', sender, {
      action,
      review: reviewJson(this.#urls, repo, this.#state, pull, review, true),
      pull_request: pullJson(this.#urls, repo, this.#state, pull, false),
      ...extra,
    });
  }

  #emitComment(
    repo: RepoRecord,
    issue: IssueRecord,
    comment: CommentRecord,
    action: string,
    sender: Account,
    extra: Json = {},
  ): void {
    if (!this.#wants(repo, 'issue_comment')) return;
    this.#emit(repo, 'issue_comment', sender, {
      action,
      issue: issueJson(this.#urls, repo, this.#state, issue),
      comment: commentJson(this.#urls, repo, this.#state, comment),
      ...extra,
    });
  }

  #emitLabeled(
    repo: RepoRecord,
    issue: IssueRecord,
    label: LabelRecord,
    action: string,
    sender: Account,
  ): void {
    const pull = repo.pulls.get(issue.number);
    if (pull !== undefined) {
      this.#emitPull(repo, pull, action, sender, { label: labelJson(this.#urls, repo, label) });
    } else if (this.#wants(repo, 'issues')) {
      this.#emit(repo, 'issues', sender, {
        action,
        issue: issueJson(this.#urls, repo, this.#state, issue),
        label: labelJson(this.#urls, repo, label),
      });
    }
  }

  #emitPush(
    repo: RepoRecord,
    ref: string,
    before: string | null,
    after: string | null,
    pusher: Account,
    forced: boolean,
  ): void {
    if (!this.#wants(repo, 'push')) return;
    // The commits the push brought: new since `before`, or for a new branch, not already on
    // the default branch.
    const defaultHead = branchSha(repo, repo.defaultBranch);
    const known = before ?? (ref === `refs/heads/${repo.defaultBranch}` ? undefined : defaultHead);
    const others = known === undefined ? new Set<string>() : repo.git.ancestors(known);
    const shas =
      after === null ? [] : repo.git.log(after, others).reverse().slice(-MAX_PUSH_COMMITS);
    const commits = shas.map((sha) => this.#pushCommitJson(repo, sha));
    const short = (sha: string | null): string => (sha ?? ZERO_SHA).slice(0, 12);
    this.#emit(repo, 'push', pusher, {
      ref,
      before: before ?? ZERO_SHA,
      after: after ?? ZERO_SHA,
      repository: pushRepoJson(this.#urls, repo),
      pusher: { name: pusher.login, email: pusher.email },
      created: before === null,
      deleted: after === null,
      forced,
      base_ref: null,
      compare: `${this.#urls.web}/${repo.fullName}/compare/${short(before)}...${short(after)}`,
      commits,
      head_commit:
        after === null ? null : (commits[commits.length - 1] ?? this.#pushCommitJson(repo, after)),
    });
  }

  #pushCommitJson(repo: RepoRecord, sha: string): Json {
    const commit = repo.git.commit(sha)!;
    const parent = commit.parents[0];
    const changes = repo.git.diff(
      parent === undefined ? null : repo.git.commit(parent)!.tree,
      commit.tree,
    );
    const person = (s: GitSignature): Json => ({
      name: s.name,
      email: s.email,
      ...(s.login === null ? {} : { username: s.login }),
    });
    return {
      id: sha,
      tree_id: commit.tree,
      distinct: true,
      message: commit.message,
      timestamp: commit.committer.date,
      url: `${this.#urls.web}/${repo.fullName}/commit/${sha}`,
      author: person(commit.author),
      committer: person(commit.committer),
      added: changes.filter((c) => c.status === 'added').map((c) => c.path),
      removed: changes.filter((c) => c.status === 'removed').map((c) => c.path),
      modified: changes.filter((c) => c.status === 'modified').map((c) => c.path),
    };
  }

  #wants(repo: RepoRecord, event: string): boolean {
    return this.#events.has(event) && this.#state.installationFor(repo.owner) !== undefined;
  }

  /** Adds the envelope every payload has (repository, organization, sender, installation). */
  #emit(repo: RepoRecord, event: string, sender: Account, body: Json): void {
    if (!this.#wants(repo, event)) return;
    const installation = this.#state.installationFor(repo.owner)!;
    this.#deliverer.enqueue(event, {
      ...body,
      repository: body['repository'] ?? repoJson(this.#urls, repo),
      ...(repo.owner.type === 'Organization'
        ? { organization: orgJson(this.#urls, repo.owner) }
        : {}),
      sender: userJson(this.#urls, sender),
      installation: {
        id: installation.id,
        node_id: Buffer.from(`Installation:${installation.id}`).toString('base64'),
      },
    });
  }
}
