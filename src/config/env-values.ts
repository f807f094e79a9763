import { GatehouseError } from '../errors/catalogue.js';

/** Reading single environment values, shared by every config loader (service, review gate,
 * lifecycle) so that a key means the same thing and fails with the same words everywhere. */
export type Env = Readonly<Record<string, string | undefined>>;

/** CONFIG_INVALID naming the key first, so the message says what to fix. */
export function invalidConfig(key: string, problem: string): GatehouseError {
  return new GatehouseError('CONFIG_INVALID', `${key}: ${problem}`);
}

/** Empty strings count as unset: `FOO=` in a .env file means "not configured". */
export function readEnv(env: Env, key: string): string | undefined {
  const value = env[key]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function envFlag(env: Env, key: string, fallback: boolean): boolean {
  const text = readEnv(env, key);
  if (text === undefined) return fallback;
  if (/^(true|1|yes)$/i.test(text)) return true;
  if (/^(false|0|no)$/i.test(text)) return false;
  throw invalidConfig(key, `must be true or false, not '${text}'`);
}

// GitHub owner and repository names:
// https://docs.github.com/en/repositories/creating-and-managing-repositories/about-repositories
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$/;
const NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** `owner/name` from GATEHOUSE_REPOSITORY (or `key`); null when unset. */
export function envRepository(
  env: Env,
  key = 'GATEHOUSE_REPOSITORY',
): { readonly owner: string; readonly name: string } | null {
  const text = readEnv(env, key);
  if (text === undefined) return null;
  const [owner, name, ...rest] = text.split('/');
  if (
    owner === undefined ||
    name === undefined ||
    rest.length > 0 ||
    !OWNER.test(owner) ||
    !NAME.test(name) ||
    name === '.' ||
    name === '..'
  ) {
    throw invalidConfig(key, `'${text}' is not owner/name`);
  }
  return Object.freeze({ owner, name });
}

/** The GitHub App id (APP_ID): a positive integer, or undefined when unset. */
export function envAppId(env: Env): number | undefined {
  const text = readEnv(env, 'APP_ID');
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,15}$/.test(text)) {
    throw invalidConfig('APP_ID', `'${text}' is not a GitHub App id (a positive integer)`);
  }
  return Number(text);
}
