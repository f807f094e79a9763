/**
 * A stand-in for the password check of an IAM-enabled RDS PostgreSQL endpoint, in front of
 * the real local server (which trusts loopback and never asks for a password). It speaks
 * just the start of the protocol (https://www.postgresql.org/docs/15/protocol-flow.html):
 * answers SSLRequest with 'N' (or, given a key and certificate, 'S' and a real TLS
 * handshake), asks for a cleartext password (as rds_iam does), records it,
 * rejects it with 28P01 unless `accept` says yes, and otherwise replays the startup message
 * to the real server and pipes the two sockets together.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface PasswordGate {
  readonly port: number;
  /** Every password received, one per authenticated connection, in order. */
  readonly passwords: readonly string[];
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;

export async function startPasswordGate(
  upstream: { host: string; port: number },
  accept: (password: string) => boolean,
  serverTls?: { key: Buffer; cert: Buffer },
): Promise<PasswordGate> {
  const passwords: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let startup: Buffer | undefined;
    let socket: net.Socket = client;
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (startup === undefined && buffer.length >= 8) {
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return;
        const message = buffer.subarray(0, length);
        buffer = buffer.subarray(length);
        if (message.readInt32BE(4) === SSL_REQUEST) {
          if (serverTls === undefined) {
            client.write('N');
            continue;
          }
          client.off('data', onData);
          client.write('S');
          socket = new tls.TLSSocket(client, { isServer: true, ...serverTls });
          socket.on('error', () => client.destroy());
          socket.on('data', onData);
          return;
        }
        startup = message;
        // AuthenticationCleartextPassword: 'R', length 8, code 3.
        socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]));
      }
      if (startup === undefined || buffer.length < 5) return;
      const length = buffer.readInt32BE(1);
      if (buffer.length < 1 + length) return;
      const password = buffer.toString('utf8', 5, length).replace(/\0$/, '');
      passwords.push(password);
      socket.off('data', onData);
      if (!accept(password)) {
        socket.end(errorResponse('28P01', 'password authentication failed (password gate)'));
        return;
      }
      const server = net.connect(upstream.port, upstream.host, () => {
        server.write(startup!);
        socket.pipe(server);
        server.pipe(socket);
      });
      sockets.add(server);
      server.on('close', () => {
        sockets.delete(server);
        client.destroy();
      });
      server.on('error', () => client.destroy());
      client.on('close', () => server.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    passwords,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`);
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([header, fields]);
}
