import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BacktestRunStore } from '../../src/storage/backtestRuns.js';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { MAY_SLICE } from '../backtests/support.js';
import { runCli } from '../support/cli.js';
import {
  ADMIN_URL,
  freshPostgres,
  seededPgliteFolder,
  type TestDatabase,
} from '../storage/support/databases.js';

const dir = mkdtempSync(join(tmpdir(), 'rxtrade-optimize-runs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Target {
  readonly flags: string[];
  use<T>(fn: (db: Database) => Promise<T>): Promise<T>;
  dispose(): Promise<void>;
}

async function pgliteTarget(): Promise<Target> {
  const path = await seededPgliteFolder(join(dir, `pglite-${Math.random().toString(36).slice(2)}`));
  return {
    flags: ['--pglite', path],
    async use(fn) {
      const db = await openDatabase({ pglitePath: path });
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    },
    dispose: async () => undefined,
  };
}

async function postgresTarget(): Promise<Target> {
  const handle: TestDatabase = await freshPostgres();
  const rows = await handle.db.query<{ name: string }>('SELECT current_database() AS name');
  const url = new URL(ADMIN_URL);
  url.pathname = `/${rows[0]?.name ?? ''}`;
  return {
    flags: ['--database-url', url.toString()],
    use: (fn) => fn(handle.db),
    dispose: () => handle.dispose(),
  };
}

interface Row {
  params: Record<string, unknown>;
  metrics: Record<string, number | null>;
}

const FROM = '2021-05-18T18:00:00Z';
const TO = '2021-05-21T00:00:00Z';

describe.each([
  ['PGlite', pgliteTarget],
  ['Postgres', postgresTarget],
] as const)('rxtrade optimize on candles stored in %s', (_kind, makeTarget) => {
  let target: Target;
  beforeAll(async () => {
    target = await makeTarget();
    const imported = await runCli([
      'import',
      '--file',
      MAY_SLICE,
      '--symbol',
      'BTC-USDT',
      '--timeframe',
      '1m',
      '--label',
      'open',
      ...target.flags,
    ]);
    expect(imported.code).toBe(0);
  }, 120_000);
  afterAll(() => target?.dispose());

  it('stores every combination in backtest_runs: its parameters, the metrics it printed, the data and settings', async () => {
    const before = await target.use((db) => new BacktestRunStore(db).list(1000));
    const r = await runCli([
      'optimize',
      '--strategy',
      'sma_cross',
      '--symbol',
      'BTC-USDT',
      '--from',
      FROM,
      '--to',
      TO,
      '--grid',
      'fast_period=5:15:5,slow_period=20:40:10',
      '--constraint',
      'fast_period < slow_period',
      '--balance',
      '5000',
      '--workers',
      '2',
      '--json',
      ...target.flags,
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { combinations: number; results: Row[] };
    expect(doc.combinations).toBe(9);

    const after = await target.use((db) => new BacktestRunStore(db).list(1000));
    const known = new Set(before.map((x) => x.id));
    const added = after.filter((x) => !known.has(x.id));
    expect(added).toHaveLength(9);
    // jsonb keeps keys in its own order: compare parameters whatever their order.
    const key = (p: Record<string, unknown>): string =>
      JSON.stringify(Object.entries(p).sort(([a], [b]) => a.localeCompare(b)));
    const printed = new Map(doc.results.map((row) => [key(row.params), row.metrics]));
    for (const run of added) {
      expect(run).toMatchObject({
        strategy: 'sma_cross',
        symbol: 'BTC-USDT',
        exchange: 'okx',
        timeframe: '1m',
        fromMs: Date.parse(FROM),
        toMs: Date.parse(TO),
        initialBalance: 5000,
        status: 'done',
        candles: 2000,
      });
      expect(run.metrics).toEqual(printed.get(key(run.params)));
      printed.delete(key(run.params));
    }
    expect(printed.size).toBe(0);

    // Read back whole: no series kept by an optimizer, the warnings it had.
    const one = await target.use((db) => new BacktestRunStore(db).get(added[0]?.id ?? ''));
    expect(one).toMatchObject({ trades: [], equity: [], fills: [], status: 'done' });
    expect(Array.isArray(one?.warnings)).toBe(true);
  }, 180_000);
});
