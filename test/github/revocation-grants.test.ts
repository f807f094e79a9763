import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import type { Probot } from 'probot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatehouseError } from '../../src/errors/catalogue.js';
import { grantId } from '../../src/grants/grant-id.js';
import type { NewGrant } from '../../src/grants/grant.js';
import type { GrantFilter, GrantStore } from '../../src/grants/grant-store.js';
import { COMMENT_MARKER } from '../../src/github/pr-report.js';
import { CHECK_NAME } from '../../src/github/review-gate-config.js';
import { deletedFileGrant, registerReviewGate } from '../../src/github/review-gate.js';
import { openState, type State } from '../../src/state/open-state.js';
import {
  HEAD_SHA,
  mountFakeGithub,
  newState,
  OWNER,
  putFile,
  REPO,
  type FakeReview,
  type FakeState,
} from './support/fake-github-api.js';
import {
  addRequest,
  CONFIG,
  NOW,
  pullRequestPayload,
  putBasePolicy,
  requestYaml,
  testProbot,
} from './support/review-gate-fixtures.js';

/**
 * Deleting a request file whose grant is no longer active removes no access, so it needs no
 * approval whoever deletes it (the lifecycle's revocation PRs for expired grants are opened by
 * the App); ending an ACTIVE grant of someone else still needs one CODEOWNER approval, and a
 * grant store that cannot be read counts as active (fail closed). The store is a real SQLite
 * state; only GitHub is faked.
 */

const PROD_FILE = 'access/hr_prod/alice-incident.yaml';
const APP = 'gatehouse[bot]';
const HOUR = 3_600_000;

let gh: FakeState;
let probot: Probot;
let store: State;
let dir: string;
let delivery = 0;
let reviewId = 900;

function grant(over: Partial<NewGrant> & { readonly mergeSha: string }): NewGrant {
  const repo = over.repo ?? `${OWNER}/${REPO}`;
  const filePath = over.filePath ?? PROD_FILE;
  return {
    id: grantId(repo, filePath, over.mergeSha),
    repo,
    requester: 'alice',
    database: 'hr_prod',
    tables: ['employee'],
    access: 'read',
    level: 'high',
    reason: 'Investigating INC-4211, payroll export missing new hires.',
    ticket: null,
    filePath,
    prNumber: 3,
    prUrl: `https://github.com/${OWNER}/${REPO}/pull/3`,
    headSha: 'd'.repeat(40),
    approvers: [{ login: 'dora', reviewId: 1 }],
    activatedAt: new Date(NOW.getTime() - 5 * HOUR),
    expiresAt: new Date(NOW.getTime() + 3 * HOUR),
    ...over,
  };
}

const EXPIRED = grant({ mergeSha: '1'.repeat(40), expiresAt: new Date(NOW.getTime() - HOUR) });
const ACTIVE = grant({ mergeSha: '2'.repeat(40) });

async function load(grants: GrantStore | undefined): Promise<void> {
  probot = testProbot();
  await probot.load((app) =>
    registerReviewGate(app, {
      config: CONFIG,
      clock: () => NOW,
      ...(grants === undefined ? {} : { grants }),
    }),
  );
}

beforeEach(async () => {
  nock.disableNetConnect();
  gh = newState();
  putBasePolicy(gh);
  mountFakeGithub(gh);
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-gate-grants-'));
  store = await openState({ kind: 'sqlite', path: join(dir, 'gatehouse.db') }, () => NOW);
  await load(store.grants);
});

afterEach(async () => {
  nock.cleanAll();
  nock.enableNetConnect();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A PR by `author` (one commit of theirs) deleting `path`, which `requester` asked for. */
function deletion(author: string, path = PROD_FILE, requester = 'alice'): void {
  gh.pr.author = author;
  gh.commits = [{ sha: HEAD_SHA, author, committer: author }];
  putFile(gh, 'main', path, requestYaml(requester, 'hr_prod', ['employee']));
  gh.files.push({ filename: path, status: 'removed' });
}

/** `base` with another `list` (the store's methods use private fields: bind, do not spread). */
function withList(base: GrantStore, list: GrantStore['list']): GrantStore {
  return new Proxy(base, {
    get: (target, key) => {
      if (key === 'list') return list;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
}

function approve(user: string): void {
  const review: FakeReview = {
    id: reviewId++,
    user,
    state: 'APPROVED',
    commit_id: HEAD_SHA,
    submitted_at: '2026-03-02T08:30:00Z',
  };
  gh.reviews.push(review);
}

async function openPr(): Promise<void> {
  gh.calls.length = 0;
  await probot.receive({
    id: `rg-${delivery++}`,
    name: 'pull_request',
    payload: pullRequestPayload(gh, 'opened'),
  } as Parameters<Probot['receive']>[0]);
}

function check() {
  const runs = gh.checkRuns.filter((r) => r.name === CHECK_NAME && r.head_sha === gh.pr.headSha);
  expect(runs).toHaveLength(1);
  return runs[0]!;
}

function comment(): string {
  const found = gh.comments.filter((c) => c.body.includes(COMMENT_MARKER));
  expect(found).toHaveLength(1);
  return found[0]!.body;
}

describe('review gate with the grant store: deleting a file whose grant is over', () => {
  it('the App deletes an expired grant’s file: success with no review, and says why', async () => {
    await store.grants.insert(EXPIRED);
    deletion(APP);
    await openPr();
    const run = check();
    expect(gh.reviews).toEqual([]);
    expect(run.conclusion).toBe('success');
    const why =
      'the grant for this file expired at 2026-03-02T08:00:00.000Z; deleting it removes no access';
    expect(run.output.title).toBe(`Revocation of ended access: no approval needed (${why})`);
    expect(run.output.summary).toContain(`| Approvals | none needed (${why}) |`);
    expect(run.output.summary).toContain(
      '| Grant | expired at 2026-03-02T08:00:00.000Z (@alice) |',
    );
    expect(comment()).toContain(`- \`${PROD_FILE}\`: ${why}.`);
    expect(comment()).not.toContain('stop working immediately');
    expect(gh.pr.labels).toEqual([]);
    expect(gh.reviewRequests).toEqual([]);
  });

  it('a third person deletes a revoked grant’s file: no approval, and says it was revoked', async () => {
    await store.grants.insert(ACTIVE);
    await store.grants.revoke(ACTIVE.id, new Date(NOW.getTime() - HOUR), 'dora', 'incident over');
    deletion('mallory');
    await openPr();
    expect(check().conclusion).toBe('success');
    expect(check().output.summary).toContain(
      'none needed (the grant for this file was revoked at 2026-03-02T08:00:00.000Z; deleting it removes no access)',
    );
  });

  it('a file that never became a grant (merged without approval) needs no approval', async () => {
    deletion(APP);
    await openPr();
    expect(check().conclusion).toBe('success');
    expect(check().output.summary).toContain(
      'none needed (this file backs no grant (it was never activated); deleting it removes no access)',
    );
  });

  it('an active grant of the same path in ANOTHER repository is not this file’s', async () => {
    await store.grants.insert(grant({ mergeSha: '3'.repeat(40), repo: `${OWNER}/other-access` }));
    deletion(APP);
    await openPr();
    expect(check().conclusion).toBe('success');
  });
});

describe('review gate with the grant store: deleting a file whose grant is active', () => {
  it('a third person deletes an ACTIVE grant’s file: action_required until a CODEOWNER approves', async () => {
    await store.grants.insert(EXPIRED);
    await store.grants.insert(ACTIVE);
    deletion('mallory');
    await openPr();
    expect(check().conclusion).toBe('action_required');
    expect(check().output.title).toContain('needs CODEOWNERS of the file (@acme/dba)');
    expect(check().output.summary).toContain(
      '| Grant | active (@alice); deleting the file ends it, so one CODEOWNER approves |',
    );
    expect(comment()).toContain('After merge, the revoked grants stop working immediately.');
    approve('sam'); // security, not a CODEOWNER of access/
    await openPr();
    expect(check().conclusion).toBe('action_required');
    approve('dan'); // an active member of @acme/dba
    await openPr();
    expect(check().conclusion).toBe('success');
  });

  it('the App deleting an ACTIVE grant’s file needs a CODEOWNER too', async () => {
    await store.grants.insert(ACTIVE);
    deletion(APP);
    await openPr();
    expect(check().conclusion).toBe('action_required');
  });

  it('the requester deletes their own ACTIVE grant’s file: success (unchanged)', async () => {
    await store.grants.insert(ACTIVE);
    deletion('alice');
    await openPr();
    expect(check().conclusion).toBe('success');
    expect(check().output.title).toBe('Revocation by the requester: no approval needed');
    expect(check().output.summary).toContain(
      'none needed (the requester revokes their own access)',
    );
  });

  it('the store says who the requester is: the file’s `requester` line does not override it', async () => {
    await store.grants.insert(ACTIVE); // alice's grant
    deletion('mallory', PROD_FILE, 'mallory'); // the base file claims mallory
    await openPr();
    expect(check().conclusion).toBe('action_required');
  });

  it('a PR that also adds a request ignores the store: the lifecycle re-checks it at merge without one', async () => {
    await store.grants.insert(EXPIRED);
    deletion('bob');
    addRequest(
      gh,
      'access/hr_test/bob-debug.yaml',
      requestYaml('bob', 'hr_test', ['employee'], '2h'),
    );
    await openPr();
    expect(check().conclusion).toBe('action_required');
    const summary = check().output.summary ?? '';
    expect(summary).not.toContain('| Grant |');
    expect(summary).toContain('Approvals from CODEOWNERS of the file (@acme/dba) | 0 of 1');
  });
});

describe('review gate with the grant store: fail closed', () => {
  it('a store that cannot be read counts as active: the App’s deletion needs a CODEOWNER', async () => {
    await store.grants.insert(EXPIRED);
    // What the GrantStore contract throws when the store cannot be reached.
    const unreachable = withList(store.grants, () =>
      Promise.reject(new GatehouseError('STATE_UNAVAILABLE', 'grant list failed: SQLITE_BUSY')),
    );
    await load(unreachable);
    deletion(APP);
    await openPr();
    expect(check().conclusion).toBe('action_required');
    expect(check().output.summary).toContain(
      '| Grant | unknown: the grant store could not be read (STATE_UNAVAILABLE); treated as active, so one CODEOWNER approves |',
    );
    expect(comment()).toContain('After merge, the revoked grants stop working immediately.');
    approve('dora');
    await openPr();
    expect(check().conclusion).toBe('success');
  });

  it('a closed store counts as active too', async () => {
    await store.grants.insert(EXPIRED);
    await store.close();
    deletion(APP);
    await openPr();
    expect(check().conclusion).toBe('action_required');
    expect(check().output.summary).toContain(
      '| Grant | unknown: the grant store could not be read',
    );
    store = await openState({ kind: 'sqlite', path: join(dir, 'gatehouse.db') }, () => NOW);
  });

  it('a store failing with something else shows no driver message, still counts as active', async () => {
    const leaky = withList(store.grants, () =>
      Promise.reject(new Error('connect ECONNREFUSED 10.0.0.5:5432 user=gatehouse')),
    );
    await load(leaky);
    deletion(APP);
    await openPr();
    expect(check().conclusion).toBe('action_required');
    expect(check().output.summary).toContain('could not be read (unexpected error)');
    expect(check().output.summary).not.toContain('ECONNREFUSED');
  });

  it('the requester’s own deletion with an unreadable store: their file, no approval (issue 3)', async () => {
    await store.close();
    deletion('alice');
    await openPr();
    expect(check().conclusion).toBe('success');
    expect(check().output.title).toBe('Revocation by the requester: no approval needed');
    store = await openState({ kind: 'sqlite', path: join(dir, 'gatehouse.db') }, () => NOW);
  });
});

describe('deletedFileGrant: the store fact', () => {
  const repo = `${OWNER}/${REPO}`;

  it('active grants name their requesters; the filter is the gateway’s (activeAt, unrevoked)', async () => {
    const seen: GrantFilter[] = [];
    const spy = withList(store.grants, (filter) => {
      seen.push(filter);
      return store.grants.list(filter);
    });
    await store.grants.insert(ACTIVE);
    expect(await deletedFileGrant(spy, repo, PROD_FILE, NOW)).toEqual({
      state: 'active',
      requesters: ['alice'],
    });
    expect(seen).toEqual([{ filePath: PROD_FILE, activeAt: NOW, unrevoked: true }]);
  });

  it('a grant revoked after it expired ended by expiry; one revoked before, by revocation', async () => {
    await store.grants.insert(EXPIRED);
    await store.grants.revoke(EXPIRED.id, NOW, APP, 'revocation PR merged');
    expect(await deletedFileGrant(store.grants, repo, PROD_FILE, NOW)).toEqual({
      state: 'inactive',
      last: { requester: 'alice', ended: 'expired', at: EXPIRED.expiresAt },
    });
    const early = new Date(NOW.getTime() - 2 * HOUR);
    const later = grant({
      mergeSha: '4'.repeat(40),
      activatedAt: new Date(NOW.getTime() - 3 * HOUR),
    });
    await store.grants.insert(later);
    await store.grants.revoke(later.id, early, 'dora', 'file deleted');
    expect(await deletedFileGrant(store.grants, repo, PROD_FILE, NOW)).toEqual({
      state: 'inactive',
      last: { requester: 'alice', ended: 'revoked', at: early },
    });
  });

  it('no grant at all: inactive with nothing that ended', async () => {
    expect(await deletedFileGrant(store.grants, repo, PROD_FILE, NOW)).toEqual({
      state: 'inactive',
      last: null,
    });
  });

  it('throws the store’s error (the gate turns it into unknown)', async () => {
    await store.close();
    await expect(deletedFileGrant(store.grants, repo, PROD_FILE, NOW)).rejects.toThrow();
    store = await openState({ kind: 'sqlite', path: join(dir, 'gatehouse.db') }, () => NOW);
  });
});
