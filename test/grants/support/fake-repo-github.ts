import './node20-shims.js';
import { createHash } from 'node:crypto';
import nock from 'nock';

/**
 * A stateful GitHub REST API for one access repository behind nock (GitHub is the one thing we
 * do not own, so it is what we mock): commits with whole trees, branches, pull requests with
 * files, commits, reviews and (squash) merges, labels, comments, team memberships. Wide enough
 * for the grant lifecycle and the review-gate evaluation it reuses. Every call is logged as
 * `METHOD /path` so tests can count calls; `fail` injects errors (5xx, rate limits).
 */
export const API = 'https://api.github.com';
export const OWNER = 'acme';
export const REPO = 'access';
export const FULL_NAME = `${OWNER}/${REPO}`;
const BASE = `/repos/${OWNER}/${REPO}`;

export interface FakeCommit {
  readonly sha: string;
  readonly parents: readonly string[];
  readonly tree: ReadonlyMap<string, string>;
  readonly author: string;
}

export interface FakeReview {
  id: number;
  user: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';
  commit_id: string;
  submitted_at: string;
}

export interface FakePull {
  number: number;
  title: string;
  body: string;
  author: string;
  state: 'open' | 'closed';
  headRef: string;
  baseRef: string;
  /** Base commit the PR was opened against (its diff base). */
  baseSha: string;
  mergedAt: string | null;
  mergeCommitSha: string | null;
  mergedBy: string | null;
  labels: string[];
  reviews: FakeReview[];
  /** Commits of the PR branch (oldest first). */
  commits: string[];
  /** Set to false to make the merge endpoint answer 405 (branch protection). */
  mergeable: boolean;
}

export interface FakeComment {
  id: number;
  issue: number;
  body: string;
  user: { login: string; type: 'Bot' | 'User' };
}

export interface Failure {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly message?: string;
}

type Reply = [number, unknown] | [number, unknown, Record<string, string>];

export function blobSha(content: string): string {
  const bytes = Buffer.from(content);
  return createHash('sha1')
    .update(Buffer.concat([Buffer.from(`blob ${bytes.length}\0`), bytes]))
    .digest('hex');
}

let shaCounter = 0;
function newSha(seed: string): string {
  shaCounter += 1;
  return createHash('sha1').update(`${seed}\n${shaCounter}\n${Math.random()}`).digest('hex');
}

export class FakeRepoGithub {
  readonly commits = new Map<string, FakeCommit>();
  readonly branches = new Map<string, string>();
  readonly pulls = new Map<number, FakePull>();
  readonly comments: FakeComment[] = [];
  /** `org/slug` → login → state. */
  readonly teams = new Map<string, Map<string, 'active' | 'pending'>>();
  /** Commit SHA → PR numbers associated with it. */
  readonly associations = new Map<string, number[]>();
  readonly calls: string[] = [];
  fail: ((method: string, path: string) => Failure | undefined) | undefined;
  defaultBranch = 'main';
  #next = 1;

  constructor(files: Readonly<Record<string, string>>) {
    const root = this.#commit([], new Map(Object.entries(files)), 'admin');
    this.branches.set('main', root);
  }

  #commit(parents: string[], tree: Map<string, string>, author: string): string {
    const sha = newSha(author);
    this.commits.set(sha, { sha, parents, tree, author });
    return sha;
  }

  head(branch = this.defaultBranch): string {
    const sha = this.branches.get(branch);
    if (sha === undefined) throw new Error(`no branch ${branch}`);
    return sha;
  }

  tree(ref: string): ReadonlyMap<string, string> {
    const sha = this.branches.get(ref) ?? ref;
    const commit = this.commits.get(sha);
    if (commit === undefined) throw new Error(`no commit ${ref}`);
    return commit.tree;
  }

  file(path: string, ref = this.defaultBranch): string | undefined {
    return this.tree(ref).get(path);
  }

  /** A direct push of one commit to `branch` (null deletes the path). */
  push(branch: string, changes: Readonly<Record<string, string | null>>, author = 'admin'): string {
    const parent = this.head(branch);
    const tree = new Map(this.tree(parent));
    for (const [path, content] of Object.entries(changes)) {
      if (content === null) tree.delete(path);
      else tree.set(path, content);
    }
    const sha = this.#commit([parent], tree, author);
    this.branches.set(branch, sha);
    return sha;
  }

  /** Opens a PR from a new branch holding `changes` on top of the default branch. */
  openPull(input: {
    author: string;
    changes: Readonly<Record<string, string | null>>;
    branch?: string;
    title?: string;
  }): FakePull {
    const number = this.#next++;
    const branch = input.branch ?? `${input.author}/request-${number}`;
    const base = this.head();
    this.branches.set(branch, base);
    const headSha = this.push(branch, input.changes, input.author);
    const pull: FakePull = {
      number,
      title: input.title ?? `Request ${number}`,
      body: '',
      author: input.author,
      state: 'open',
      headRef: branch,
      baseRef: this.defaultBranch,
      baseSha: base,
      mergedAt: null,
      mergeCommitSha: null,
      mergedBy: null,
      labels: [],
      reviews: [],
      commits: [headSha],
      mergeable: true,
    };
    this.pulls.set(number, pull);
    this.#associate(headSha, number);
    return pull;
  }

  approve(pull: FakePull, user: string, at: string): FakeReview {
    const review: FakeReview = {
      id: 5000 + this.#next++,
      user,
      state: 'APPROVED',
      commit_id: this.headOf(pull),
      submitted_at: at,
    };
    pull.reviews.push(review);
    return review;
  }

  headOf(pull: FakePull): string {
    return this.branches.get(pull.headRef) ?? pull.commits[pull.commits.length - 1] ?? '';
  }

  /** Squash-merges the PR into its base (as GitHub's merge button or API does). */
  merge(pull: FakePull, at: string, by = 'dora'): string {
    const base = this.head(pull.baseRef);
    const tree = new Map(this.tree(base));
    for (const change of this.#diff(pull)) {
      if (change.content === null) tree.delete(change.path);
      else tree.set(change.path, change.content);
    }
    const sha = this.#commit([base], tree, by);
    this.branches.set(pull.baseRef, sha);
    pull.state = 'closed';
    pull.mergedAt = at;
    pull.mergeCommitSha = sha;
    pull.mergedBy = by;
    this.#associate(sha, pull.number);
    return sha;
  }

  /** A PR opened, approved by `approvers` and merged: the usual path of a request. */
  mergedRequest(input: {
    author: string;
    changes: Readonly<Record<string, string | null>>;
    approvers: readonly string[];
    mergedAt: string;
    mergedBy?: string;
  }): FakePull {
    const pull = this.openPull(input);
    const reviewedAt = new Date(Date.parse(input.mergedAt) - 60_000).toISOString();
    for (const user of input.approvers) this.approve(pull, user, reviewedAt);
    this.merge(pull, input.mergedAt, input.mergedBy);
    return pull;
  }

  #associate(sha: string, pr: number): void {
    const list = this.associations.get(sha) ?? [];
    if (!list.includes(pr)) list.push(pr);
    this.associations.set(sha, list);
  }

  /** The PR's changes: its head tree against the tree it was opened from. */
  #diff(pull: FakePull): { path: string; content: string | null; status: string }[] {
    const before = this.tree(pull.baseSha);
    const after = this.tree(this.headOf(pull));
    const out: { path: string; content: string | null; status: string }[] = [];
    for (const [path, content] of after) {
      const old = before.get(path);
      if (old === undefined) out.push({ path, content, status: 'added' });
      else if (old !== content) out.push({ path, content, status: 'modified' });
    }
    for (const path of before.keys()) {
      if (!after.has(path)) out.push({ path, content: null, status: 'removed' });
    }
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  pullJson(pull: FakePull): Record<string, unknown> {
    return {
      number: pull.number,
      title: pull.title,
      body: pull.body,
      state: pull.state,
      draft: false,
      merged: pull.mergedAt !== null,
      merged_at: pull.mergedAt,
      merge_commit_sha: pull.mergeCommitSha,
      merged_by: pull.mergedBy === null ? null : { login: pull.mergedBy },
      user: { login: pull.author, type: 'User' },
      html_url: `https://github.com/${FULL_NAME}/pull/${pull.number}`,
      head: { ref: pull.headRef, sha: this.headOf(pull), repo: { full_name: FULL_NAME } },
      base: { ref: pull.baseRef, sha: pull.baseSha, repo: { full_name: FULL_NAME } },
      labels: pull.labels.map((name) => ({ name })),
      commits: pull.commits.length,
      changed_files: this.#diff(pull).length,
      requested_teams: [],
      requested_reviewers: [],
    };
  }

  /** Newest first-parent commit from `ref` whose tree changed `path`. */
  #lastCommitFor(ref: string, path: string): string | null {
    let sha: string | undefined = this.branches.get(ref) ?? ref;
    while (sha !== undefined) {
      const commit = this.commits.get(sha);
      if (commit === undefined) return null;
      const parent = commit.parents[0];
      const before = parent === undefined ? undefined : this.commits.get(parent)?.tree.get(path);
      if (commit.tree.get(path) !== before) return sha;
      sha = parent;
    }
    return null;
  }

  route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
  ): Reply {
    let m: RegExpExecArray | null;
    const notFound: Reply = [404, { message: 'Not Found' }];

    if (method === 'GET' && path === BASE) {
      return [200, { name: REPO, full_name: FULL_NAME, default_branch: this.defaultBranch }];
    }
    if (method === 'GET' && (m = new RegExp(`^${BASE}/git/ref/heads/(.+)$`).exec(path))) {
      const sha = this.branches.get(decodeURIComponent(m[1]!));
      return sha === undefined
        ? notFound
        : [200, { ref: `refs/heads/${m[1]}`, object: { sha, type: 'commit' } }];
    }
    if (method === 'POST' && path === `${BASE}/git/refs`) {
      const ref = String(body.ref).replace(/^refs\/heads\//, '');
      if (this.branches.has(ref)) return [422, { message: 'Reference already exists' }];
      this.branches.set(ref, String(body.sha));
      return [201, { ref: body.ref, object: { sha: body.sha } }];
    }
    if (method === 'GET' && (m = new RegExp(`^${BASE}/git/trees/([^/]+)$`).exec(path))) {
      const tree = this.commits.get(m[1]!)?.tree;
      if (tree === undefined) return notFound;
      return [
        200,
        {
          sha: m[1],
          truncated: false,
          tree: [...tree].map(([p, content]) => ({
            path: p,
            type: 'blob',
            mode: '100644',
            sha: blobSha(content),
          })),
        },
      ];
    }
    if (method === 'GET' && (m = new RegExp(`^${BASE}/git/commits/([0-9a-f]{40})$`).exec(path))) {
      const commit = this.commits.get(m[1]!);
      return commit === undefined
        ? notFound
        : [200, { sha: commit.sha, parents: commit.parents.map((sha) => ({ sha })) }];
    }
    if (method === 'GET' && path === `${BASE}/commits`) {
      const sha = this.#lastCommitFor(
        query.get('sha') ?? this.defaultBranch,
        query.get('path') ?? '',
      );
      return [200, sha === null ? [] : [{ sha }]];
    }
    if (method === 'GET' && (m = new RegExp(`^${BASE}/commits/([0-9a-f]{40})/pulls$`).exec(path))) {
      const numbers = this.associations.get(m[1]!) ?? [];
      return [200, numbers.map((n) => this.pullJson(this.pulls.get(n)!))];
    }
    if (method === 'GET' && (m = new RegExp(`^${BASE}/contents/(.+)$`).exec(path))) {
      const ref = query.get('ref') ?? this.defaultBranch;
      const filePath = decodeURIComponent(m[1]!);
      let content: string | undefined;
      try {
        content = this.tree(ref).get(filePath);
      } catch {
        return notFound;
      }
      if (content === undefined) return notFound;
      return [
        200,
        {
          type: 'file',
          path: filePath,
          encoding: 'base64',
          size: Buffer.byteLength(content),
          sha: blobSha(content),
          content: Buffer.from(content).toString('base64'),
        },
      ];
    }
    if (method === 'DELETE' && (m = new RegExp(`^${BASE}/contents/(.+)$`).exec(path))) {
      const filePath = decodeURIComponent(m[1]!);
      const branch = String(body.branch);
      const content = this.file(filePath, branch);
      if (content === undefined) return notFound;
      if (blobSha(content) !== body.sha) return [409, { message: 'sha does not match' }];
      const sha = this.push(branch, { [filePath]: null }, 'gatehouse[bot]');
      for (const pull of this.pulls.values()) {
        if (pull.headRef === branch && pull.state === 'open') pull.commits.push(sha);
      }
      return [200, { commit: { sha } }];
    }
    if (method === 'GET' && path === `${BASE}/pulls`) {
      const state = query.get('state') ?? 'open';
      const head = query.get('head');
      const list = [...this.pulls.values()]
        .filter((p) => state === 'all' || p.state === state)
        .filter((p) => head === null || `${OWNER}:${p.headRef}` === head)
        .sort((a, b) => b.number - a.number);
      return [200, list.map((p) => this.pullJson(p))];
    }
    if (method === 'POST' && path === `${BASE}/pulls`) {
      const head = String(body.head);
      if ([...this.pulls.values()].some((p) => p.headRef === head && p.state === 'open')) {
        return [
          422,
          {
            message: 'Validation Failed',
            errors: [
              {
                resource: 'PullRequest',
                code: 'custom',
                message: `A pull request already exists for ${OWNER}:${head}.`,
              },
            ],
          },
        ];
      }
      const headSha = this.branches.get(head);
      if (headSha === undefined) return [422, { message: 'Validation Failed' }];
      const number = this.#next++;
      const baseRef = String(body.base);
      const pull: FakePull = {
        number,
        title: String(body.title),
        body: String(body.body ?? ''),
        author: 'gatehouse[bot]',
        state: 'open',
        headRef: head,
        baseRef,
        baseSha: this.commits.get(headSha)?.parents[0] ?? this.head(baseRef),
        mergedAt: null,
        mergeCommitSha: null,
        mergedBy: null,
        labels: [],
        reviews: [],
        commits: [headSha],
        mergeable: true,
      };
      this.pulls.set(number, pull);
      this.#associate(headSha, number);
      return [201, this.pullJson(pull)];
    }
    if ((m = new RegExp(`^${BASE}/pulls/(\\d+)(/[a-z]+)?$`).exec(path))) {
      const pull = this.pulls.get(Number(m[1]));
      if (pull === undefined) return notFound;
      const sub = m[2];
      if (method === 'GET' && sub === undefined) return [200, this.pullJson(pull)];
      if (method === 'PATCH' && sub === undefined) {
        if (body.state === 'open') {
          if (pull.mergedAt !== null || !this.branches.has(pull.headRef)) {
            return [
              422,
              { message: 'Validation Failed', errors: [{ message: 'state cannot be changed' }] },
            ];
          }
          pull.state = 'open';
        }
        if (body.state === 'closed') pull.state = 'closed';
        return [200, this.pullJson(pull)];
      }
      if (method === 'GET' && sub === '/files') {
        return [200, this.#diff(pull).map((c) => ({ filename: c.path, status: c.status }))];
      }
      if (method === 'GET' && sub === '/commits') {
        return [
          200,
          pull.commits.map((sha) => {
            const login = this.commits.get(sha)?.author ?? null;
            return {
              sha,
              author: login === null ? null : { login },
              committer: { login: 'web-flow' },
            };
          }),
        ];
      }
      if (method === 'GET' && sub === '/reviews') {
        return [200, pull.reviews.map((r) => ({ ...r, user: { login: r.user } }))];
      }
      if (method === 'PUT' && sub === '/merge') {
        if (pull.state !== 'open' || !pull.mergeable) {
          return [405, { message: 'Pull Request is not mergeable' }];
        }
        if (body.sha !== undefined && body.sha !== this.headOf(pull)) {
          return [409, { message: 'Head branch was modified' }];
        }
        const sha = this.merge(pull, new Date().toISOString(), 'gatehouse[bot]');
        return [200, { sha, merged: true, message: 'Pull Request successfully merged' }];
      }
    }
    if ((m = new RegExp(`^${BASE}/issues/(\\d+)/labels$`).exec(path)) && method === 'POST') {
      const pull = this.pulls.get(Number(m[1]));
      if (pull === undefined) return notFound;
      for (const label of body.labels as string[])
        if (!pull.labels.includes(label)) pull.labels.push(label);
      return [200, pull.labels.map((name) => ({ name }))];
    }
    if ((m = new RegExp(`^${BASE}/issues/(\\d+)/comments$`).exec(path))) {
      const issue = Number(m[1]);
      if (method === 'GET') return [200, this.comments.filter((c) => c.issue === issue)];
      if (method === 'POST') {
        const comment: FakeComment = {
          id: 9000 + this.#next++,
          issue,
          body: String(body.body),
          user: { login: 'gatehouse[bot]', type: 'Bot' },
        };
        this.comments.push(comment);
        return [201, comment];
      }
    }
    if (method === 'PATCH' && (m = new RegExp(`^${BASE}/issues/comments/(\\d+)$`).exec(path))) {
      const comment = this.comments.find((c) => c.id === Number(m![1]));
      if (comment === undefined) return notFound;
      comment.body = String(body.body);
      return [200, comment];
    }
    if (
      method === 'GET' &&
      (m = /^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/.exec(path))
    ) {
      const state = this.teams.get(`${m[1]}/${m[2]}`)?.get(m[3]!);
      return state === undefined ? notFound : [200, { state, role: 'member' }];
    }
    // GitHub App authentication (for the CLI's installation client).
    if (method === 'GET' && path === `${BASE}/installation`) {
      return [200, { id: 42, account: { login: OWNER } }];
    }
    if (method === 'POST' && path === '/app/installations/42/access_tokens') {
      return [
        201,
        {
          token: 'ghs_test',
          expires_at: '2999-01-01T00:00:00Z',
          permissions: {},
          repository_selection: 'all',
        },
      ];
    }
    return [501, { message: `fake GitHub: no route for ${method} ${path}` }];
  }

  /** Routes every request to api.github.com here. Call `nock.cleanAll()` after. */
  mount(): void {
    for (const method of ['get', 'post', 'patch', 'delete', 'put'] as const) {
      nock(API)
        .persist()
        [method](() => true)
        // nock 15 hands a reply function the fetch Request (one parameter; with two it
        // would wait for a callback).
        .reply(async (request: Request) => {
          const url = new URL(request.url);
          const upper = request.method.toUpperCase();
          this.calls.push(`${upper} ${url.pathname}`);
          const failure = this.fail?.(upper, url.pathname);
          if (failure !== undefined) {
            return [
              failure.status,
              { message: failure.message ?? 'fake GitHub failure' },
              failure.headers ?? {},
            ];
          }
          const text = await request.text();
          const parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
          // Octokit percent-encodes `/` inside a parameter (`heads%2Fmain`); GitHub accepts it.
          return this.route(upper, decodeURIComponent(url.pathname), url.searchParams, parsed);
        });
    }
  }

  commentsOn(issue: number): FakeComment[] {
    return this.comments.filter((c) => c.issue === issue);
  }

  callCount(prefix: string): number {
    return this.calls.filter((call) => call.startsWith(prefix)).length;
  }
}
