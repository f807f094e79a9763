import { beforeAll, describe, expect, it } from 'vitest';
import { loadRepoContext, type RepoContext } from '../../src/policy/repo-context.js';
import {
  assessPullRequest,
  classifyChangedFiles,
  revocationBasis,
  type DeletedFileGrant,
  type FileAssessment,
} from '../../src/github/pr-evaluation.js';
import {
  CODEOWNERS,
  DATABASES_YAML,
  NOW,
  requestYaml,
  RISK_YAML,
} from './support/review-gate-fixtures.js';

/** The pure rule for deleted request files, over plain data (no GitHub, no store). */

const FILE = 'access/hr_prod/alice-incident.yaml';
const encode = (text: string) => new TextEncoder().encode(text);
let context: RepoContext;

beforeAll(async () => {
  const files = new Map([
    ['policies/databases.yaml', DATABASES_YAML],
    ['policies/risk.yaml', RISK_YAML],
    ['.github/CODEOWNERS', CODEOWNERS],
  ]);
  const loaded = await loadRepoContext(async (path) => {
    const text = files.get(path);
    return text === undefined ? null : encode(text);
  });
  expect(loaded.diagnostics).toEqual([]);
  context = loaded.context!;
});

function assessDeletion(
  author: string,
  facts: ReadonlyMap<string, DeletedFileGrant> | undefined,
): FileAssessment {
  const assessment = assessPullRequest({
    pr: { number: 7, author, headSha: 'c'.repeat(40), htmlUrl: 'https://github.com/acme/x/7' },
    changes: classifyChangedFiles([{ path: FILE, status: 'removed' }]),
    context,
    contextDiagnostics: [],
    headFiles: new Map(),
    baseFiles: new Map([[FILE, encode(requestYaml('alice', 'hr_prod', ['employee']))]]),
    headPolicyDiagnostics: [],
    requesterTeams: new Set(),
    ...(facts === undefined ? {} : { deletedFileGrants: facts }),
    now: NOW,
  });
  expect(assessment.files).toHaveLength(1);
  return assessment.files[0]!;
}

describe('deleted request files: who must approve', () => {
  const expired: DeletedFileGrant = {
    state: 'inactive',
    last: { requester: 'alice', ended: 'expired', at: new Date(NOW.getTime() - 1) },
  };

  it('without store facts: requester none, anyone else one CODEOWNER (issue 3)', () => {
    expect(assessDeletion('alice', undefined).requirements).toEqual([]);
    expect(assessDeletion('gatehouse[bot]', undefined).requirements).toEqual([
      { count: 1, from: { codeowners: true, teams: [], users: [] }, codeowners: ['@acme/dba'] },
    ]);
  });

  it('a grant that is over: none, whoever deletes it', () => {
    const file = assessDeletion('gatehouse[bot]', new Map([[FILE, expired]]));
    expect(file.requirements).toEqual([]);
    expect(file.revocation).toEqual({ grant: expired, byRequester: false });
    const never = assessDeletion('mallory', new Map([[FILE, { state: 'inactive', last: null }]]));
    expect(never.requirements).toEqual([]);
  });

  it('an active grant: its requester none, anyone else one CODEOWNER', () => {
    const active = new Map<string, DeletedFileGrant>([
      [FILE, { state: 'active', requesters: ['Alice'] }],
    ]);
    expect(assessDeletion('alice', active).requirements).toEqual([]);
    expect(assessDeletion('gatehouse[bot]', active).requirements).toHaveLength(1);
  });

  it('unknown, or a path the facts do not cover: treated as active', () => {
    const unknown = new Map<string, DeletedFileGrant>([
      [FILE, { state: 'unknown', cause: 'STATE_UNAVAILABLE' }],
    ]);
    expect(assessDeletion('gatehouse[bot]', unknown).requirements).toHaveLength(1);
    const other = new Map<string, DeletedFileGrant>([['access/hr_prod/other.yaml', expired]]);
    const file = assessDeletion('gatehouse[bot]', other);
    expect(file.requirements).toHaveLength(1);
    expect(file.revocation?.grant.state).toBe('unknown');
  });

  it('several active grants: the author must be the requester of every one', () => {
    expect(
      revocationBasis('alice', 'alice', { state: 'active', requesters: ['alice', 'bob'] })
        .byRequester,
    ).toBe(false);
    expect(revocationBasis('alice', 'bob', { state: 'active', requesters: [] }).byRequester).toBe(
      false,
    );
  });
});
