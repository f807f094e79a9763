import http from 'node:http';

export interface JsonResponse {
  readonly status: number;
  readonly body: string;
}

/**
 * A minimal keep-alive JSON client on node:http: the load generator should cost as little as
 * possible, since it shares the machine with the server it measures. One agent per run, with
 * as many sockets as workers, so every worker keeps its own connection.
 */
export function keepAliveAgent(sockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
}

export function postJson(
  agent: http.Agent,
  url: URL,
  payload: unknown,
  headers: Readonly<Record<string, string>>,
): Promise<JsonResponse> {
  return send(agent, url, 'POST', JSON.stringify(payload), headers);
}

export function getJson(
  agent: http.Agent,
  url: URL,
  headers: Readonly<Record<string, string>> = {},
): Promise<JsonResponse> {
  return send(agent, url, 'GET', null, headers);
}

function send(
  agent: http.Agent,
  url: URL,
  method: 'GET' | 'POST',
  body: string | null,
  headers: Readonly<Record<string, string>>,
): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent,
        method,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname,
        headers:
          body === null
            ? headers
            : {
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(body),
                ...headers,
              },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body ?? undefined);
  });
}
