/**
 * The access repository and the people of the end-to-end scenario, on the fake GitHub
 * (test/fake-github): organization `acme` with the teams the repository's own policies name
 * (`@acme/dba`, `@acme/security`), a developer, a colleague who owns nothing, a DBA and a
 * security engineer, and `acme/access` holding this repository's policies/risk.yaml and
 * .github/CODEOWNERS with a databases.yaml of the caller's choice. `main` is protected like
 * production (README, "Branch protection"): the Gatehouse check must be green to merge.
 * Shared by test/e2e and `npm run demo`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECK_NAME } from '../../../src/github/review-gate-config.js';
import type { FakeGitHub } from '../../fake-github/fake-github.js';

export const ORG = 'acme';
export const ACCESS_REPO = 'acme/access';
export { CHECK_NAME };

export interface Person {
  readonly login: string;
  /** A GitHub token of theirs: the fake's `/user` resolves it, so Gatehouse knows them. */
  readonly token: string;
}

export const PEOPLE = {
  /** Developer on call: asks for access. */
  alice: { login: 'alice', token: 'ghp_alice_e2e' },
  /** Another developer: her approval counts for nothing here. */
  carol: { login: 'carol', token: 'ghp_carol_e2e' },
  /** DBA (@acme/dba), CODEOWNER of access/. */
  dave: { login: 'dave', token: 'ghp_dave_e2e' },
  /** Security (@acme/security): second approver of sensitive tables, and an auditor. */
  sam: { login: 'sam', token: 'ghp_sam_e2e' },
} as const satisfies Record<string, Person>;

/** The root of this repository (test/e2e/support → ../../..). */
export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

/** The files of the access repository: this repository's risk policy and CODEOWNERS, and the
 * given databases.yaml (the e2e points hr_prod/analytics_prod at test servers; the demo keeps
 * the repository's own). */
export function accessRepositoryFiles(databasesYaml: string): Record<string, string> {
  return {
    'policies/databases.yaml': databasesYaml,
    'policies/risk.yaml': readFileSync(join(REPO_ROOT, 'policies', 'risk.yaml'), 'utf8'),
    '.github/CODEOWNERS': readFileSync(join(REPO_ROOT, '.github', 'CODEOWNERS'), 'utf8'),
    'README.md': '# Access requests\n\nOne file per request under access/<database>/.\n',
  };
}

export async function seedAccessRepository(
  fake: FakeGitHub,
  files: Record<string, string>,
): Promise<void> {
  fake.addOrg(ORG);
  fake.addTeam(ORG, 'dba', { name: 'DBA' });
  fake.addTeam(ORG, 'security', { name: 'Security' });
  for (const person of Object.values(PEOPLE)) fake.addUser(person.login, { token: person.token });
  fake.addTeamMember(ORG, 'dba', PEOPLE.dave.login);
  fake.addTeamMember(ORG, 'security', PEOPLE.sam.login);
  await fake.createRepo(ORG, 'access', { files, author: PEOPLE.sam.login });
  fake.protectBranch(ACCESS_REPO, 'main', { requiredChecks: [CHECK_NAME] });
}

/** The Gatehouse check on a pull request's current head, as GitHub shows it. */
export function gatehouseCheck(
  fake: FakeGitHub,
  number: number,
): { readonly conclusion: string | null; readonly title: string; readonly summary: string } | null {
  const pull = fake.pullRequest(ACCESS_REPO, number) as { head: { sha: string } };
  const run = fake.latestCheckRun(ACCESS_REPO, pull.head.sha, CHECK_NAME) as
    | {
        status: string;
        conclusion: string | null;
        output: { title: string | null; summary: string | null };
      }
    | undefined;
  if (run === undefined || run.status !== 'completed') return null;
  return {
    conclusion: run.conclusion,
    title: run.output.title ?? '',
    summary: run.output.summary ?? '',
  };
}

/** Comments on a pull request by the App's bot, oldest first. */
export function botComments(fake: FakeGitHub, number: number): readonly string[] {
  return (fake.comments(ACCESS_REPO, number) as { user: { login: string }; body: string }[])
    .filter((comment) => comment.user.login === fake.bot.login)
    .map((comment) => comment.body);
}
