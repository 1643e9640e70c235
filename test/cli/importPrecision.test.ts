import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runImport } from '../../src/cli/commands/import.js';
import type { Timeframe } from '../../src/domain/timeframe.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { migrate } from '../../src/storage/migrate.js';
import { runCli } from '../support/cli.js';
import { freshPostgres, seededPgliteFolder } from '../storage/support/databases.js';

/**
 * `rxtrade import` of a real file (issue 9, point 2): a PEPE-like pair's prices and volumes, and the
 * extremes (10⁻¹² prices, 10¹⁸ volumes), are stored exactly; and a file with values the database refuses
 * (here through CHECK constraints the test adds) stops with exit 1 and `FILE line N: …`, not a stack.
 */

const T0 = Date.UTC(2024, 4, 1, 0, 0);
const MIN = 60_000;

const dir = mkdtempSync(join(tmpdir(), 'rxtrade-import-precision-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Rows of open, high, low, close, volume as the file holds them. */
const PRECISE: readonly (readonly string[])[] = [
  ['0.000012345678', '0.000012345679', '0.000012345677', '0.000012345678', '123456789012.345678'],
  ['0.000000000001', '0.000000000003', '0.000000000001', '0.0000000000025', '1000000000000000000'],
  ['0.0000001', '0.00000015', '0.0000001', '0.00000012345678901234', '1000000000000000000000'],
  ['67012.5', '67250.1', '66990', '67001.3', '0.00000001'],
];

function candleFile(name: string, rows: readonly (readonly string[])[]): string {
  const path = join(dir, name);
  const lines = rows.map((r, i) => [String(T0 + (i + 1) * MIN), ...r].join(','));
  writeFileSync(path, ['timestamp,open,high,low,close,volume', ...lines].join('\n') + '\n');
  return path;
}

/** `n` plain rows, with the volume of data row `i` (0-based) replaced by `volumes[i]`. */
function plainRows(n: number, volumes: Record<number, string> = {}): string[][] {
  return Array.from({ length: n }, (_, i) => ['1.5', '2', '1', '1.75', volumes[i] ?? String(1 + (i % 7))]);
}

function quietIo() {
  const sink = new PassThrough();
  sink.resume();
  return { stdout: sink, stderr: sink, interactive: false, interrupted: new Promise<void>(() => {}) };
}

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
  const handle = await freshPostgres();
  return {
    flags: ['--database-url', handle.url as string],
    use: (fn) => fn(handle.db),
    dispose: () => handle.dispose(),
  };
}

describe.each([
  ['PGlite', pgliteTarget],
  ['Postgres', postgresTarget],
] as const)('rxtrade import into %s', (_kind, makeTarget) => {
  let target: Target;

  beforeAll(async () => {
    target = await makeTarget();
    await target.use(async (db) => {
      await migrate(db);
      // Test-only refusals: a volume of exactly 13, and any 1h candle of DERIVE-USDT.
      await db.exec(`ALTER TABLE market_data ADD CONSTRAINT test_no_13 CHECK (volume <> 13);
        ALTER TABLE market_data ADD CONSTRAINT test_no_derived_1h
          CHECK (symbol <> 'DERIVE-USDT' OR timeframe <> '1h')`);
    });
  }, 60_000);
  afterAll(() => target?.dispose());

  const range = (symbol: string, timeframe: Timeframe) =>
    target.use((db) => new CandleStore(db).range(symbol, timeframe, 0, Number.MAX_SAFE_INTEGER));

  it('stores PEPE-like prices and volumes, and the extremes, exactly', async () => {
    const file = candleFile('pepe.csv', PRECISE);
    const result = await runCli([
      'import',
      '--file',
      file,
      '--symbol',
      'PEPE-USDT',
      '--timeframe',
      '1m',
      '--exchange',
      'okx',
      ...target.flags,
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const stored = await range('PEPE-USDT', '1m');
    expect(stored.map((c) => [c.open, c.high, c.low, c.close, c.volume])).toEqual(
      PRECISE.map((r) => r.map(Number)),
    );
  }, 60_000);

  it('stops at a row the database refuses, naming the file and the line, with exit 1 and nothing written', async () => {
    const file = candleFile('refused.csv', plainRows(3000, { 2343: '13' })); // line 2345 (header = 1)
    const message = `${file} line 2345: the database refused this candle: new row for relation "market_data" violates check constraint "test_no_13" (SQLSTATE 23514)`;
    const result = await runCli([
      'import',
      '--file',
      file,
      '--symbol',
      'REFUSED-USDT',
      '--timeframe',
      '1m',
      ...target.flags,
    ]);
    expect(result).toEqual({ code: 1, stdout: '', stderr: `rxtrade: ${message}\n` });
    // In small batches the refused row comes after batches already written: they are rolled back too.
    const options = { file, symbol: 'REFUSED-USDT', timeframe: '1m', batchRows: 400 };
    const [flag, value] = target.flags;
    await expect(
      runImport(
        flag === '--pglite' ? { ...options, pglite: value } : { ...options, databaseUrl: value },
        quietIo(),
      ),
    ).rejects.toThrow(message);
    expect(await range('REFUSED-USDT', '1m')).toEqual([]);
  }, 60_000);

  it('names a derived candle the database refuses', async () => {
    const file = candleFile('derive.csv', plainRows(130));
    const result = await runCli([
      'import',
      '--file',
      file,
      '--symbol',
      'DERIVE-USDT',
      '--timeframe',
      '1m',
      '--derive',
      ...target.flags,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `rxtrade: ${file}: the DERIVE-USDT 1h candle closing 2024-05-01T01:00:00.000Z derived from it: the database refused this candle: new row for relation "market_data" violates check constraint "test_no_derived_1h" (SQLSTATE 23514)\n`,
    );
    expect(await range('DERIVE-USDT', '1m')).toEqual([]);
  }, 60_000);
});
