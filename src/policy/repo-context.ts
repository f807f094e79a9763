import type { Diagnostic } from '../util/diagnostic.js';
import { parseCodeowners, type Codeowners } from './codeowners.js';
import type { Databases } from './databases.js';
import { loadDatabases } from './load-databases.js';
import { loadRiskPolicy } from './load-risk-policy.js';
import type { RiskPolicy } from './risk-policy.js';

/** Everything in an access repository that decides what a request needs: the databases, the
 * risk policy and CODEOWNERS. The review gate loads it from the pull request's BASE branch, so
 * a pull request can never lower its own bar (anchors.md §3). */
export interface RepoContext {
  readonly databases: Databases;
  readonly policy: RiskPolicy;
  readonly codeowners: Codeowners;
  /** Where CODEOWNERS was found, or null when the repository has none. */
  readonly codeownersPath: string | null;
}

export const DATABASES_PATH = 'policies/databases.yaml';
export const RISK_POLICY_PATH = 'policies/risk.yaml';

/** GitHub looks for CODEOWNERS in these places and uses the first it finds.
 * https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners#codeowners-file-location */
export const CODEOWNERS_PATHS = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'] as const;

/** Reads one repository-relative path; null when the file does not exist. Other failures
 * (network, permissions) are thrown: they are broken infrastructure, not bad input. */
export type RepoFileReader = (path: string) => Promise<Uint8Array | null>;

/**
 * Loads the context of an access repository through `readFile`, which is the filesystem for
 * the CLI and the contents API at the base commit for the GitHub App. `context` is present
 * only when every file is valid: requests are never judged against a half-read policy.
 */
export async function loadRepoContext(
  readFile: RepoFileReader,
): Promise<{ context?: RepoContext; diagnostics: Diagnostic[] }> {
  const [databasesBytes, policyBytes] = await Promise.all([
    readFile(DATABASES_PATH),
    readFile(RISK_POLICY_PATH),
  ]);
  const diagnostics: Diagnostic[] = [];
  const missing = (file: string, what: string): void => {
    diagnostics.push({
      file,
      line: 0,
      column: 0,
      field: '',
      code: 'POLICY_INVALID',
      message: `${file} is missing; it declares ${what} (see docs/formats.md).`,
    });
  };

  let databases: Databases | undefined;
  if (databasesBytes === null) {
    missing(DATABASES_PATH, 'the databases requests can name');
  } else {
    const loaded = loadDatabases(DATABASES_PATH, databasesBytes);
    databases = loaded.databases;
    diagnostics.push(...loaded.diagnostics);
  }

  let policy: RiskPolicy | undefined;
  if (policyBytes === null) {
    missing(RISK_POLICY_PATH, 'the risk levels and rules');
  } else {
    const loaded = loadRiskPolicy(
      RISK_POLICY_PATH,
      policyBytes,
      databases === undefined ? {} : { databases },
    );
    policy = loaded.policy;
    diagnostics.push(...loaded.diagnostics);
  }

  let codeowners: Codeowners | undefined;
  let codeownersPath: string | null = null;
  for (const path of CODEOWNERS_PATHS) {
    const bytes = await readFile(path);
    if (bytes === null) continue;
    codeownersPath = path;
    const text = decodeCodeowners(path, bytes, diagnostics);
    if (text !== undefined) {
      const parsed = parseCodeowners(text, path);
      codeowners = parsed.codeowners;
      // Owners are a security input: any skipped line could shift ownership to a looser rule
      // (see src/policy/codeowners.ts), so invalid lines stop everything.
      diagnostics.push(...parsed.diagnostics);
    }
    break;
  }
  if (codeownersPath === null) codeowners = parseCodeowners('', CODEOWNERS_PATHS[0]).codeowners;

  if (diagnostics.length > 0 || !databases || !policy || !codeowners) return { diagnostics };
  return { context: { databases, policy, codeowners, codeownersPath }, diagnostics };
}

function decodeCodeowners(
  file: string,
  bytes: Uint8Array,
  diagnostics: Diagnostic[],
): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    diagnostics.push({
      file,
      line: 0,
      column: 0,
      field: '',
      code: 'FILE_NOT_UTF8',
      message: `${file} is not valid UTF-8; save it as UTF-8.`,
    });
    return undefined;
  }
}
