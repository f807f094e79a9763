import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface IdentityServer {
  /** Base URL to use as GATEHOUSE_GITHUB_API_URL. */
  readonly apiUrl: string;
  /** `GET /user` calls answered so far (the server caches identities, so: one per token). */
  readonly lookups: number;
  close(): Promise<void>;
}

/**
 * Stands in for GitHub's `GET /user` (https://docs.github.com/en/rest/users/users#get-the-authenticated-user)
 * on loopback: every token is `login`. Gatehouse caches the answer by token hash, so after
 * the first query identity is off the hot path; `lookups` shows that it was.
 */
export async function startIdentityServer(login: string): Promise<IdentityServer> {
  let lookups = 0;
  const server = http.createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/user') {
      lookups += 1;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ login, id: 4242, type: 'User' }));
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ message: 'Not Found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}`,
    get lookups() {
      return lookups;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
