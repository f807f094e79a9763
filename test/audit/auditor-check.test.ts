/** createAuditorCheck: users and teams from policies, case-insensitive, cached five minutes,
 * and a membership lookup that fails is an error, never a yes (nor cached). */
import { describe, expect, it } from 'vitest';
import { AUDITOR_CACHE_MS, createAuditorCheck } from '../../src/audit/tools/auditor-check.js';

function membership(members: Record<string, string[]>) {
  const calls: string[] = [];
  const isTeamMember = async (org: string, slug: string, login: string) => {
    calls.push(`${org}/${slug}:${login}`);
    return (members[`${org}/${slug}`] ?? []).includes(login.toLowerCase());
  };
  return { calls, isTeamMember };
}

describe('createAuditorCheck', () => {
  it('listed users (any case, @ ignored) without asking GitHub', async () => {
    const { calls, isTeamMember } = membership({});
    const check = createAuditorCheck({ users: ['@Auditor-Ann'], teams: [] }, isTeamMember);
    expect(await check('auditor-ann')).toBe(true);
    expect(await check('AUDITOR-ANN')).toBe(true);
    expect(await check('mallory')).toBe(false);
    expect(calls).toEqual([]);
  });

  it('members of a listed team, looked up once per login for five minutes', async () => {
    const { calls, isTeamMember } = membership({
      'acme/security': ['sam'],
      'acme/compliance': ['cora'],
    });
    let now = 0;
    const check = createAuditorCheck(
      { users: [], teams: ['@acme/security', 'acme/compliance'] },
      isTeamMember,
      () => new Date(now),
    );
    expect(await check('cora')).toBe(true);
    expect(await check('mallory')).toBe(false);
    expect(await check('cora')).toBe(true);
    expect(await check('mallory')).toBe(false);
    expect(calls).toEqual([
      'acme/security:cora',
      'acme/compliance:cora',
      'acme/security:mallory',
      'acme/compliance:mallory',
    ]);
    now += AUDITOR_CACHE_MS;
    expect(await check('cora')).toBe(true);
    expect(calls).toHaveLength(6);
  });

  it('a failed lookup is AUTH_PROVIDER_UNAVAILABLE, never a yes, and is not cached', async () => {
    let fail = true;
    const check = createAuditorCheck({ users: [], teams: ['acme/security'] }, async () => {
      if (fail) throw new Error('GitHub unavailable');
      return true;
    });
    await expect(check('sam')).rejects.toMatchObject({ code: 'AUTH_PROVIDER_UNAVAILABLE' });
    fail = false;
    expect(await check('sam')).toBe(true);
  });

  it('a malformed team entry matches nobody', async () => {
    const { calls, isTeamMember } = membership({});
    const check = createAuditorCheck(
      { users: [], teams: ['security', '/x', 'acme/'] },
      isTeamMember,
    );
    expect(await check('sam')).toBe(false);
    expect(calls).toEqual([]);
  });
});
