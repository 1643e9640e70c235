import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A TCP server on 127.0.0.1 that accepts every connection and never answers: a hanging endpoint. */
export interface HangingServer {
  readonly port: number;
  readonly url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /**
   * Requests still waiting for an answer: connections that sent something and are still open (a client
   * that gives up on a request closes its connection; undici may open a spare one, which sends nothing).
   */
  readonly waiting: number;
  close(): Promise<void>;
}

export async function hangingServer(): Promise<HangingServer> {
  const sockets = new Set<Socket>();
  const asked = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('data', () => asked.add(socket));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      asked.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    get waiting() {
      return asked.size;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A 127.0.0.1 port nothing listens on (connections are refused): bound once, then released. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Timers the process holds now (what would keep it alive), for "nothing is left behind" checks. */
export function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}
