import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bus } from '../../../src/bus/bus.js';
import { InProcessBus } from '../../../src/bus/inProcessBus.js';
import type { BotControl } from '../../../src/bots/botControl.js';
import { createHttpApp, type HttpApp, type HttpConfig } from '../../../src/http/app.js';
import { WorkerBacktestService } from '../../../src/http/backtests/backtestService.js';
import { InMemoryMarketSnapshot } from '../../../src/http/market/marketSnapshot.js';
import { startHttpServer, type HttpServerHandle } from '../../../src/http/server.js';
import type { Database } from '../../../src/storage/database.js';
import { migrate } from '../../../src/storage/migrate.js';
import { freshPglite, freshPostgres, type TestDatabase } from '../../storage/support/databases.js';
import { StoreBotControl } from './storeBotControl.js';

export type DbKind = 'postgres' | 'pglite';

export interface TestApi {
  readonly url: string;
  /** Postgres only: the test database's connection string. */
  readonly databaseUrl?: string;
  readonly db: Database;
  readonly bus: Bus;
  readonly bots: StoreBotControl;
  readonly backtests: WorkerBacktestService;
  readonly market: InMemoryMarketSnapshot;
  readonly configDir: string;
  readonly app: HttpApp;
  readonly server: HttpServerHandle;
  close(): Promise<void>;
}

export interface TestApiOptions {
  readonly config?: HttpConfig;
  /** Default: an in-process bus (closed with the API). A given bus is left open. */
  readonly bus?: Bus;
  /** Wraps the twin (to make it fail in a test). */
  readonly wrapBots?: (bots: StoreBotControl) => BotControl;
}

/** A fresh database (migrated), the twin BotControl, a worker backtest service and the API on 127.0.0.1:0. */
export async function startTestApi(kind: DbKind, options: TestApiOptions = {}): Promise<TestApi> {
  const test: TestDatabase = kind === 'postgres' ? await freshPostgres() : await freshPglite();
  await migrate(test.db);
  const configDir = mkdtempSync(join(tmpdir(), 'rxtrade-http-'));
  const bus = options.bus ?? new InProcessBus();
  const bots = new StoreBotControl(test.db, configDir, bus);
  const backtests = new WorkerBacktestService(test.db, { maxConcurrent: 1 });
  const market = new InMemoryMarketSnapshot();
  const app = createHttpApp({
    bots: options.wrapBots?.(bots) ?? bots,
    db: test.db,
    bus,
    backtests,
    market,
    ...(options.config !== undefined ? { config: options.config } : {}),
  });
  const server = await startHttpServer(app, { host: '127.0.0.1', port: 0 });
  return {
    url: server.url,
    ...(test.url !== undefined ? { databaseUrl: test.url } : {}),
    db: test.db,
    bus,
    bots,
    backtests,
    market,
    configDir,
    app,
    server,
    close: async () => {
      await server.close();
      await backtests.close();
      if (options.bus === undefined) await bus.close();
      await test.dispose();
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/** One request; the body is sent as JSON (a string as is). */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed };
}

export function databaseUrlOf(api: TestApi): string {
  if (api.databaseUrl === undefined) throw new TypeError('a PGlite test API has no database URL');
  return api.databaseUrl;
}
