import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server as SocketIoServer } from 'socket.io';
import { UsageError } from '../domain/errors.js';
import type { HttpApp } from './app.js';
import { isLoopbackHost } from './security.js';
import { attachSocketBridge } from './socket/socketBridge.js';

export interface HttpServerOptions {
  /** Default 127.0.0.1. Anything but loopback needs the app's `config.token` (RXTRADE_API_TOKEN). */
  readonly host?: string;
  /** Default 8080; 0 picks a free port (tests). */
  readonly port?: number;
}

export interface HttpServerHandle {
  /** `http://127.0.0.1:8080` (the host as bound; a wildcard bind is shown as 127.0.0.1). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly server: Server;
  readonly io: SocketIoServer;
  /** Stops Socket.IO and the bus bridge, closes the server and its connections. */
  close(): Promise<void>;
}

/**
 * Serves the app and Socket.IO on one HTTP server. Refuses (UsageError) a host other than loopback when no
 * API token is configured: the API can start, stop and create bots.
 */
export async function startHttpServer(
  app: HttpApp,
  options: HttpServerOptions = {},
): Promise<HttpServerHandle> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  const token = app.options.config?.token;
  if (!isLoopbackHost(host) && token === undefined) {
    throw new UsageError(
      `HTTP_HOST ${host} is not a loopback address: set RXTRADE_API_TOKEN so that only you can control the bots, or bind 127.0.0.1`,
    );
  }
  const server = createServer(app.koa.callback());
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000;
  const bridge = attachSocketBridge(server, {
    bus: app.options.bus,
    backtests$: app.options.backtests.events$,
    metrics: app.metrics,
    token,
    logger: app.logger,
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        err.code === 'EADDRINUSE'
          ? new UsageError(`port ${port} on ${host} is in use (HTTP_PORT, --port)`, { cause: err })
          : err,
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  }).catch(async (err: unknown) => {
    await bridge.close();
    throw err;
  });
  const address = server.address() as AddressInfo;
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${address.port}`;
  app.logger.info({ url }, 'HTTP API listening');
  return {
    url,
    host,
    port: address.port,
    server,
    io: bridge.io,
    close: async () => {
      // io.close() closes the HTTP server too, which waits for open connections: end them (keep-alive).
      const closing = bridge.close();
      server.closeAllConnections();
      await closing;
      if (server.listening) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
        });
      }
    },
  };
}
