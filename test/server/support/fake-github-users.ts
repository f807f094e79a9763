/**
 * A tiny real HTTP server standing in for GitHub's `GET /user`
 * (https://docs.github.com/en/rest/users/users#get-the-authenticated-user) on loopback, so the
 * identity provider is exercised over real HTTP. Tokens map to logins; a few tokens trigger
 * GitHub's failure modes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const RATE_LIMITED_TOKEN = 'ghp_rate_limited';
export const FORBIDDEN_TOKEN = 'ghs_installation_token';
export const SERVER_ERROR_TOKEN = 'ghp_github_is_down';

export interface FakeGithubUsers {
  /** Base URL, like https://api.github.com (no trailing slash). */
  readonly url: string;
  /** Authorization headers seen, in order (tests check tokens are sent only here). */
  readonly calls: string[];
  setUser(token: string, login: string): void;
  close(): Promise<void>;
}

export async function startFakeGithubUsers(
  users: Readonly<Record<string, string>> = {},
): Promise<FakeGithubUsers> {
  const logins = new Map(Object.entries(users));
  const calls: string[] = [];
  const server: Server = createServer((request, response) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'GET' || request.url !== '/user') {
      send(404, { message: 'Not Found' });
      return;
    }
    const header = request.headers.authorization ?? '';
    calls.push(header);
    const token = /^Bearer (.+)$/.exec(header)?.[1];
    if (token === RATE_LIMITED_TOKEN) {
      send(403, { message: 'API rate limit exceeded' }, { 'x-ratelimit-remaining': '0' });
      return;
    }
    if (token === FORBIDDEN_TOKEN) {
      send(403, { message: 'Resource not accessible by integration' });
      return;
    }
    if (token === SERVER_ERROR_TOKEN) {
      send(502, { message: 'Server Error' });
      return;
    }
    const login = token === undefined ? undefined : logins.get(token);
    if (login === undefined) {
      send(401, { message: 'Bad credentials' });
      return;
    }
    send(200, { login, id: 1, type: 'User' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    setUser: (token, login) => logins.set(token, login),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
