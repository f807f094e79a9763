import './node20-shims.js';
import nock from 'nock';

/**
 * An in-memory GitHub REST API behind nock (we do not own GitHub, so it is the one thing we
 * mock), just wide enough for the review gate. Every call is logged as `METHOD /path` so tests
 * can count API calls per event and assert that a refused webhook caused none.
 */
export const API = 'https://api.github.com';
export const OWNER = 'acme';
export const REPO = 'access';
export const BASE_SHA = 'b'.repeat(40);
export const HEAD_SHA = 'c'.repeat(40);

export interface FakeReview {
  id: number;
  user: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';
  commit_id: string;
  submitted_at: string;
}

export interface FakeCheckRun {
  id: number;
  head_sha: string;
  name: string;
  status: string;
  conclusion: string | null;
  details_url: string | null;
  output: { title?: string; summary?: string; annotations?: unknown[] };
}

export interface FakeComment {
  id: number;
  body: string;
  user: { login: string; type: 'Bot' | 'User' };
}

export interface FakeState {
  pr: {
    number: number;
    author: string;
    headSha: string;
    state: 'open' | 'closed';
    labels: string[];
    requestedTeams: string[];
    requestedUsers: string[];
  };
  files: { filename: string; status: string; previous_filename?: string }[];
  commits: { sha: string; author: string | null; committer: string | null }[];
  reviews: FakeReview[];
  /** `${ref}\0${path}` → content; refs used: 'main' (base branch) and the head SHA. */
  contents: Map<string, string>;
  /** `org/slug` → login → membership state. */
  teams: Map<string, Map<string, 'active' | 'pending'>>;
  checkRuns: FakeCheckRun[];
  comments: FakeComment[];
  reviewRequests: { reviewers: string[]; team_reviewers: string[] }[];
  /** Calls as `METHOD /path` (no query string), in order. */
  calls: string[];
  /** Contents reads as `ref:path`, in order. */
  reads: string[];
  /** Return an HTTP status to fail the call with it (after logging it). */
  fail?: (method: string, path: string) => number | undefined;
}

export function newState(): FakeState {
  return {
    pr: {
      number: 7,
      author: 'alice',
      headSha: HEAD_SHA,
      state: 'open',
      labels: [],
      requestedTeams: [],
      requestedUsers: [],
    },
    files: [],
    commits: [{ sha: HEAD_SHA, author: 'alice', committer: 'web-flow' }],
    reviews: [],
    contents: new Map(),
    teams: new Map([
      [
        'acme/dba',
        new Map<string, 'active' | 'pending'>([
          ['dora', 'active'],
          ['dan', 'active'],
          ['pat', 'pending'],
        ]),
      ],
      [
        'acme/security',
        new Map<string, 'active' | 'pending'>([
          ['sam', 'active'],
          ['sue', 'active'],
        ]),
      ],
    ]),
    checkRuns: [],
    comments: [],
    reviewRequests: [],
    calls: [],
    reads: [],
  };
}

export function putFile(state: FakeState, ref: string, path: string, content: string): void {
  state.contents.set(`${ref}\0${path}`, content);
}

type Reply = [number, unknown] | [number, unknown, Record<string, string>];

function notFound(): Reply {
  return [404, { message: 'Not Found' }];
}

let nextId = 1000;

function route(
  state: FakeState,
  method: string,
  path: string,
  query: URLSearchParams,
  body: unknown,
): Reply {
  const base = `/repos/${OWNER}/${REPO}`;
  const pr = state.pr;
  const prPath = `${base}/pulls/${pr.number}`;
  const b = (body ?? {}) as Record<string, unknown>;
  let m: RegExpExecArray | null;

  if (method === 'GET' && path === prPath) {
    return [
      200,
      {
        number: pr.number,
        state: pr.state,
        draft: false,
        merged: false,
        merged_at: null,
        merge_commit_sha: null,
        user: { login: pr.author, type: 'User' },
        html_url: `https://github.com/${OWNER}/${REPO}/pull/${pr.number}`,
        head: { sha: pr.headSha, ref: 'alice/request' },
        base: { sha: BASE_SHA, ref: 'main' },
        labels: pr.labels.map((name) => ({ name })),
        commits: state.commits.length,
        changed_files: state.files.length,
        requested_teams: pr.requestedTeams.map((slug) => ({ slug })),
        requested_reviewers: pr.requestedUsers.map((login) => ({ login })),
      },
    ];
  }
  if (method === 'GET' && path === `${prPath}/files`) return [200, state.files];
  if (method === 'GET' && path === `${prPath}/commits`) {
    return [
      200,
      state.commits.map((c) => ({
        sha: c.sha,
        author: c.author === null ? null : { login: c.author },
        committer: c.committer === null ? null : { login: c.committer },
      })),
    ];
  }
  if (method === 'GET' && path === `${prPath}/reviews`) {
    return [200, state.reviews.map((r) => ({ ...r, user: { login: r.user } }))];
  }
  if (method === 'POST' && path === `${prPath}/requested_reviewers`) {
    const request = {
      reviewers: (b.reviewers as string[] | undefined) ?? [],
      team_reviewers: (b.team_reviewers as string[] | undefined) ?? [],
    };
    state.reviewRequests.push(request);
    pr.requestedUsers.push(...request.reviewers);
    pr.requestedTeams.push(...request.team_reviewers);
    return [201, {}];
  }
  if (method === 'GET' && (m = new RegExp(`^${base}/contents/(.+)$`).exec(path))) {
    const ref = query.get('ref') ?? 'main';
    const filePath = decodeURIComponent(m[1]!);
    state.reads.push(`${ref}:${filePath}`);
    const file = state.contents.get(`${ref}\0${filePath}`);
    if (file === undefined) return notFound();
    return [
      200,
      {
        type: 'file',
        encoding: 'base64',
        size: Buffer.byteLength(file),
        content: Buffer.from(file).toString('base64'),
      },
    ];
  }
  if (
    method === 'GET' &&
    (m = /^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/.exec(path))
  ) {
    const membership = state.teams.get(`${m[1]}/${m[2]}`)?.get(m[3]!);
    return membership === undefined ? notFound() : [200, { state: membership, role: 'member' }];
  }
  if (method === 'GET' && (m = new RegExp(`^${base}/commits/([0-9a-f]+)/check-runs$`).exec(path))) {
    const runs = state.checkRuns
      .filter((run) => run.head_sha === m![1] && run.name === query.get('check_name'))
      .reverse();
    return [200, { total_count: runs.length, check_runs: runs }];
  }
  if (method === 'GET' && (m = new RegExp(`^${base}/commits/([0-9a-f]+)/pulls$`).exec(path))) {
    return [200, m[1] === pr.headSha ? [{ number: pr.number, state: pr.state }] : []];
  }
  if (method === 'POST' && path === `${base}/check-runs`) {
    const run: FakeCheckRun = {
      id: nextId++,
      head_sha: b.head_sha as string,
      name: b.name as string,
      status: (b.status as string | undefined) ?? 'queued',
      conclusion: null,
      details_url: (b.details_url as string | undefined) ?? null,
      output: {},
    };
    state.checkRuns.push(run);
    return [201, run];
  }
  if (method === 'PATCH' && (m = new RegExp(`^${base}/check-runs/(\\d+)$`).exec(path))) {
    const run = state.checkRuns.find((r) => r.id === Number(m![1]));
    if (run === undefined) return notFound();
    if (typeof b.status === 'string') run.status = b.status;
    if (typeof b.conclusion === 'string') run.conclusion = b.conclusion;
    if (typeof b.details_url === 'string') run.details_url = b.details_url;
    if (b.output !== undefined) run.output = b.output as FakeCheckRun['output'];
    return [200, run];
  }
  if (method === 'POST' && path === `${base}/issues/${pr.number}/labels`) {
    for (const label of b.labels as string[]) if (!pr.labels.includes(label)) pr.labels.push(label);
    return [200, pr.labels.map((name) => ({ name }))];
  }
  if (
    method === 'DELETE' &&
    (m = new RegExp(`^${base}/issues/${pr.number}/labels/(.+)$`).exec(path))
  ) {
    const name = decodeURIComponent(m[1]!);
    if (!pr.labels.includes(name)) return notFound();
    pr.labels = pr.labels.filter((label) => label !== name);
    return [200, []];
  }
  if (method === 'GET' && path === `${base}/issues/${pr.number}/comments`)
    return [200, state.comments];
  if (method === 'POST' && path === `${base}/issues/${pr.number}/comments`) {
    const comment: FakeComment = {
      id: nextId++,
      body: b.body as string,
      user: { login: 'gatehouse[bot]', type: 'Bot' },
    };
    state.comments.push(comment);
    return [201, comment];
  }
  if (method === 'PATCH' && (m = new RegExp(`^${base}/issues/comments/(\\d+)$`).exec(path))) {
    const comment = state.comments.find((c) => c.id === Number(m![1]));
    if (comment === undefined) return notFound();
    comment.body = b.body as string;
    return [200, comment];
  }
  if (method === 'POST' && (m = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path))) {
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

/** Routes every request to api.github.com through `state`. Call `nock.cleanAll()` after. */
export function mountFakeGithub(state: FakeState): void {
  for (const method of ['get', 'post', 'patch', 'delete', 'put'] as const) {
    nock(API)
      .persist()
      [method](() => true)
      // nock 15 hands the reply function the Fetch `Request` (one parameter: with two, it
      // would be treated as a callback-style function).
      .reply(async (request: Request) => {
        const url = new URL(request.url);
        const upper = method.toUpperCase();
        state.calls.push(`${upper} ${url.pathname}`);
        const status = state.fail?.(upper, url.pathname);
        if (status !== undefined) return [status, { message: 'fake GitHub failure' }];
        const text = await request.text();
        const parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
        return route(state, upper, url.pathname, url.searchParams, parsed);
      });
  }
}

/** Calls grouped as `METHOD /path-shape` → count, with numbers and SHAs folded. */
export function callSummary(calls: readonly string[]): Record<string, number> {
  const summary: Record<string, number> = {};
  for (const call of calls) {
    const shape = call
      .replace(/[0-9a-f]{40}/g, '{sha}')
      .replace(/\/contents\/.+$/, '/contents/{path}')
      .replace(/\/teams\/[^/]+\/memberships\/.+$/, '/teams/{slug}/memberships/{user}')
      .replace(/\/labels\/.+$/, '/labels/{name}')
      .replace(/\/\d+(?=\/|$)/g, '/{n}');
    summary[shape] = (summary[shape] ?? 0) + 1;
  }
  return summary;
}
