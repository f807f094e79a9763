import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../../src/errors/catalogue.js';
import { classifyChangedFiles, labelFor } from '../../src/github/pr-evaluation.js';
import { loadReviewGateConfig } from '../../src/github/review-gate-config.js';

function failure(env: Record<string, string>): GatehouseError {
  try {
    loadReviewGateConfig(env);
  } catch (error) {
    return error as GatehouseError;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('loadReviewGateConfig', () => {
  it('reads the repository, review requests and app id', () => {
    const config = loadReviewGateConfig({
      GATEHOUSE_REPOSITORY: 'acme/access',
      GATEHOUSE_REQUEST_REVIEWS: 'true',
      APP_ID: '123',
    });
    expect(config).toEqual({
      repository: { owner: 'acme', name: 'access' },
      requestReviews: true,
      appId: 123,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('defaults: no review requests, no app id', () => {
    expect(loadReviewGateConfig({ GATEHOUSE_REPOSITORY: 'acme/access' })).toMatchObject({
      requestReviews: false,
      appId: undefined,
    });
  });

  it.each([
    [{}, 'GATEHOUSE_REPOSITORY'],
    [{ GATEHOUSE_REPOSITORY: 'acme' }, 'GATEHOUSE_REPOSITORY'],
    [{ GATEHOUSE_REPOSITORY: 'acme/access/x' }, 'GATEHOUSE_REPOSITORY'],
    [{ GATEHOUSE_REPOSITORY: '-acme/access' }, 'GATEHOUSE_REPOSITORY'],
    [
      { GATEHOUSE_REPOSITORY: 'acme/access', GATEHOUSE_REQUEST_REVIEWS: 'maybe' },
      'GATEHOUSE_REQUEST_REVIEWS',
    ],
    [{ GATEHOUSE_REPOSITORY: 'acme/access', APP_ID: 'abc' }, 'APP_ID'],
  ])('refuses %j naming %s', (env, key) => {
    const error = failure(env as Record<string, string>);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message.startsWith(key)).toBe(true);
  });
});

describe('classifyChangedFiles', () => {
  it('sorts requests, revocations, policy changes and other paths', () => {
    expect(
      classifyChangedFiles([
        { path: 'access/hr_prod/a.yaml', status: 'added' },
        { path: 'access/hr_prod/b.yaml', status: 'modified' },
        { path: 'access/hr_prod/c.yaml', status: 'removed' },
        { path: 'access/hr_test/d.yaml', status: 'renamed', previousPath: 'access/hr_prod/d.yaml' },
        { path: 'policies/risk.yaml', status: 'modified' },
        { path: '.github/CODEOWNERS', status: 'modified' },
        { path: 'README.md', status: 'modified' },
      ]),
    ).toEqual({
      requests: [
        { path: 'access/hr_prod/a.yaml', modified: false },
        { path: 'access/hr_prod/b.yaml', modified: true },
        { path: 'access/hr_test/d.yaml', modified: false },
      ],
      revocations: ['access/hr_prod/c.yaml', 'access/hr_prod/d.yaml'],
      meta: ['policies/risk.yaml', '.github/CODEOWNERS'],
      other: ['README.md'],
    });
  });

  it('maps levels to labels', () => {
    expect(labelFor('high')).toBe('gatehouse:risk-high');
    expect(labelFor('Policy Change')).toBe('gatehouse:risk-policy-change');
    expect(labelFor(null)).toBeNull();
  });
});
