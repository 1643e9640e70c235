import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runImport, type ImportOptions, type ImportSummary } from '../../src/cli/commands/import.js';
import type { Candle } from '../../src/domain/candle.js';
import { bucketCloseOf, timeframeMs, type Timeframe } from '../../src/domain/timeframe.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { readCandleCsv } from '../../src/streams/candleCsv.js';
import { runCli } from '../support/cli.js';
import {
  ADMIN_URL,
  freshPostgres,
  seededPgliteFolder,
  type TestDatabase,
} from '../storage/support/databases.js';

/** Real Binance BTC/USDT 1m candles, 2021-04-24/25, stamped by OPEN time, with a real 4¾-hour gap. */
const FIXTURE = fileURLToPath(
  new URL('../fixtures/candles/binance_BTCUSDT_1m_20210424_20210425.csv', import.meta.url),
);
const ROWS = 2596;

const dir = mkdtempSync(join(tmpdir(), 'rxtrade-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fixture as candles stamped with their CLOSE time (what import must store). */
async function fileCandles(symbol: string, path = FIXTURE): Promise<Candle[]> {
  return (await readCandleCsv(path, { label: 'open', symbol, timeframe: '1m' })).candles;
}

/** Higher candles aggregated directly from 1m candles (every bucket with a candle; these buckets are whole). */
function aggregate(candles: readonly Candle[], timeframe: Timeframe): Candle[] {
  const out: Candle[] = [];
  for (const c of candles) {
    const close = bucketCloseOf(c.closeTimeMs, timeframeMs(timeframe));
    const last = out[out.length - 1];
    if (last === undefined || last.closeTimeMs !== close) {
      out.push({ ...c, timeframe, closeTimeMs: close });
    } else {
      out[out.length - 1] = {
        ...last,
        high: Math.max(last.high, c.high),
        low: Math.min(last.low, c.low),
        close: c.close,
        volume: last.volume + c.volume,
      };
    }
  }
  return out.map((c) => ({ ...c, volume: Number(c.volume.toFixed(8)) }));
}

function quietIo() {
  const sink = new PassThrough();
  sink.resume();
  return { stdout: sink, stderr: sink, interactive: false, interrupted: new Promise<void>(() => {}) };
}

/** A copy of the fixture with line `lineNo` (1-based, header = 1) replaced. */
function fixtureWith(lineNo: number, line: string, name: string): string {
  const lines = readFileSync(FIXTURE, 'utf8').split('\n');
  lines[lineNo - 1] = line;
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n'));
  return path;
}

/** A copy of the fixture keeping data rows [from, to) (0-based), with the header. */
function fixtureSlice(from: number, to: number, name: string): string {
  const lines = readFileSync(FIXTURE, 'utf8').trimEnd().split('\n');
  const path = join(dir, name);
  writeFileSync(path, [lines[0], ...lines.slice(1 + from, 1 + to)].join('\n') + '\n');
  return path;
}

interface Target {
  /** CLI flags choosing the database. */
  readonly flags: string[];
  /** Runs `fn` with the database open (and closes it after, for PGlite, which one process opens at a time). */
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

/** runImport with the target's database, for what the CLI flags do not reach (batch size). */
function optionsFor(target: Target, options: Omit<ImportOptions, 'databaseUrl' | 'pglite'>): ImportOptions {
  const [flag, value] = target.flags;
  return flag === '--pglite' ? { ...options, pglite: value } : { ...options, databaseUrl: value };
}

describe.each([
  ['PGlite', pgliteTarget],
  ['Postgres', postgresTarget],
] as const)('rxtrade import into %s', (_kind, makeTarget) => {
  let target: Target;

  beforeAll(async () => {
    target = await makeTarget();
  }, 60_000);
  afterAll(() => target?.dispose());

  const range = (symbol: string, timeframe: Timeframe) =>
    target.use((db) => new CandleStore(db).range(symbol, timeframe, 0, Number.MAX_SAFE_INTEGER));
  /** Several reads with the database opened once (PGlite opens in a second or so each time). */
  const ranges = (reads: readonly (readonly [string, Timeframe])[]) =>
    target.use(async (db) => {
      const out: Candle[][] = [];
      for (const [symbol, timeframe] of reads) {
        out.push(await new CandleStore(db).range(symbol, timeframe, 0, Number.MAX_SAFE_INTEGER));
      }
      return out;
    });

  it('stores every row of the file, stamped by close time, and reports what it did', async () => {
    const result = await runCli([
      'import',
      '--file',
      FIXTURE,
      '--symbol',
      'BTC-USDT',
      '--timeframe',
      '1m',
      '--label',
      'open',
      ...target.flags,
    ]);
    expect(result.stderr).toBe(
      "rxtrade import: stored as exchange 'okx' (the default; --exchange NAME files them under another)\n",
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `^imported .*binance_BTCUSDT_1m_20210424_20210425\\.csv into (PGlite|Postgres) at .*: BTC-USDT 1m \\(open times in the file\\) closing 2021-04-24T00:01:00\\.000Z … 2021-04-26T00:00:00\\.000Z\\n` +
          `${ROWS} rows read, ${ROWS} inserted, 0 updated, 0 unchanged; 1 gap found \\(284 missing candles\\); [\\d.]+ k? ?rows/s \\([\\d.]+ s\\)\\n$`,
      ),
    );

    const stored = await range('BTC-USDT', '1m');
    const expected = await fileCandles('BTC-USDT');
    expect(stored).toHaveLength(ROWS);
    expect(stored).toEqual(expected);
    // Spot-check the stamping against the file's first row: open time 00:00 → stored at 00:01.
    expect(stored[0]).toMatchObject({
      closeTimeMs: Date.UTC(2021, 3, 24, 0, 1),
      open: 51110.56,
      high: 51165.93,
      low: 51110.43,
      close: 51161.53,
      volume: 53.514449,
    });
  }, 60_000);

  it('changes nothing when the same file is imported again', async () => {
    const result = await runCli([
      'import',
      '--file',
      FIXTURE,
      '--symbol',
      'BTC-USDT',
      '--timeframe',
      '1m',
      '--label',
      'open',
      ...target.flags,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${ROWS} rows read, 0 inserted, 0 updated, ${ROWS} unchanged;`);
    expect(await range('BTC-USDT', '1m')).toHaveLength(ROWS);
  }, 60_000);

  it('--derive stores 5m…1d candles equal to the 1m candles aggregated directly, and is idempotent too', async () => {
    const run = (): Promise<ImportSummary> =>
      runImport(
        optionsFor(target, {
          file: FIXTURE,
          symbol: 'BTC-USDT',
          timeframe: '1m',
          label: 'open',
          derive: true,
          batchRows: 700, // several batches, written while the next is parsed
        }),
        quietIo(),
      );
    const first = await run();
    const minutes = await fileCandles('BTC-USDT');
    const expected = (['5m', '15m', '1h', '4h', '1d'] as const).map((tf) => aggregate(minutes, tf));
    expect(first).toMatchObject({ rows: ROWS, inserted: 0, unchanged: ROWS });
    const derivedCount = expected.reduce((n, e) => n + e.length, 0);
    expect(first.derived).toEqual({ rows: derivedCount, inserted: derivedCount, updated: 0, unchanged: 0 });

    const stored = await ranges(expected.map((want) => ['BTC-USDT', want[0]?.timeframe as Timeframe]));
    expected.forEach((want, i) => expect(stored[i]).toEqual(want));
    const [days, fiveMin] = await ranges([
      ['BTC-USDT', '1d'],
      ['BTC-USDT', '5m'],
    ]);
    // 2 whole UTC days; the 5m candle holding the last minute before the gap has only that minute.
    expect(days).toHaveLength(2);
    expect(fiveMin!.find((c) => c.closeTimeMs === Date.UTC(2021, 3, 25, 4, 5))).toMatchObject({
      open: 49626.76,
      close: 49683.94,
      volume: 5.887034,
    });

    const again = await run();
    expect(again.derived).toEqual({ rows: derivedCount, inserted: 0, updated: 0, unchanged: derivedCount });
  }, 120_000);

  it('--derive over a history imported in two files gives the same candles as one file', async () => {
    const firstHalf = fixtureSlice(0, 1000, 'first.csv'); // ends mid-day, mid-hour
    const secondHalf = fixtureSlice(1000, ROWS, 'second.csv');
    for (const file of [firstHalf, secondHalf]) {
      await runImport(
        optionsFor(target, { file, symbol: 'SPLIT-USDT', timeframe: '1m', label: 'open', derive: true }),
        quietIo(),
      );
    }
    const tfs = ['5m', '15m', '1h', '4h', '1d'] as const;
    const split = await ranges(tfs.map((tf) => ['SPLIT-USDT', tf]));
    const whole = await ranges(tfs.map((tf) => ['BTC-USDT', tf]));
    tfs.forEach((_tf, i) => {
      expect(split[i]!.map((c) => ({ ...c, symbol: 'BTC-USDT' }))).toEqual(whole[i]);
    });
  }, 120_000);

  it('inserts into an empty stretch by COPY and upserts where rows exist', async () => {
    await runImport(
      optionsFor(target, {
        file: fixtureSlice(1500, ROWS, 'tail.csv'),
        symbol: 'MIXED-USDT',
        timeframe: '1m',
        label: 'open',
      }),
      quietIo(),
    );
    const summary = await runImport(
      optionsFor(target, {
        file: FIXTURE,
        symbol: 'MIXED-USDT',
        timeframe: '1m',
        label: 'open',
        batchRows: 500,
      }),
      quietIo(),
    );
    expect(summary).toMatchObject({ rows: ROWS, inserted: 1500, updated: 0, unchanged: ROWS - 1500 });
    expect(summary.copiedBatches).toBeGreaterThan(0);
    expect(summary.upsertedBatches).toBeGreaterThan(0);
    const stored = await range('MIXED-USDT', '1m');
    expect(stored).toEqual(await fileCandles('MIXED-USDT'));
  }, 60_000);

  it('prints a JSON summary with --json, and a progress line only on an interactive stderr', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (b: Buffer) => out.push(b));
    stderr.on('data', (b: Buffer) => err.push(b));
    const io = { stdout, stderr, interactive: true, interrupted: new Promise<void>(() => {}) };
    await runImport(
      optionsFor(target, { file: FIXTURE, symbol: 'JSON-USDT', timeframe: '1m', json: true }),
      io,
    );
    const summary = JSON.parse(Buffer.concat(out).toString('utf8')) as Record<string, unknown>;
    expect(summary).toMatchObject({
      symbol: 'JSON-USDT',
      timeframe: '1m',
      label: 'open', // from the column name open_time_ms
      rows: ROWS,
      inserted: ROWS,
      updated: 0,
      unchanged: 0,
      gaps: 1,
      missingCandles: 284,
      firstCloseTimeMs: Date.UTC(2021, 3, 24, 0, 1),
      lastCloseTimeMs: Date.UTC(2021, 3, 26),
    });
    const progress = Buffer.concat(err).toString('utf8');
    expect(progress).toMatch(
      /^\rimporting .*binance_BTCUSDT_1m_20210424_20210425\.csv into .* 100% \(0\.2 MB\)/,
    );
    expect(
      progress.endsWith(
        "\r\u001b[Krxtrade import: stored as exchange 'okx' (the default; --exchange NAME files them under another)\n",
      ),
    ).toBe(true);
  }, 60_000);

  it('imports nothing from a file with only a header', async () => {
    const path = join(dir, 'header-only.csv');
    writeFileSync(path, 'timestamp,open,high,low,close,volume\n');
    const summary = await runImport(
      optionsFor(target, { file: path, symbol: 'EMPTY-USDT', timeframe: '1h', derive: false }),
      quietIo(),
    );
    expect(summary).toMatchObject({ rows: 0, inserted: 0, gaps: 0, firstCloseTimeMs: undefined });
  }, 60_000);

  it('stores under --exchange, and says nothing about the default then', async () => {
    const result = await runCli([
      'import',
      ...['--file', fixtureSlice(0, 10, 'sim-slice.csv'), '--symbol', 'SIM-USDT', '--timeframe', '1m'],
      ...['--exchange', 'okx-sim', '--json', ...target.flags],
    ]);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({
      exchange: 'okx-sim',
      symbol: 'SIM-USDT',
      inserted: 10,
    });
    const stored = await target.use((db) =>
      new CandleStore(db, 'okx-sim').range('SIM-USDT', '1m', 0, Number.MAX_SAFE_INTEGER),
    );
    expect(stored).toHaveLength(10);
    expect(await range('SIM-USDT', '1m')).toEqual([]); // nothing under okx
  }, 60_000);

  it('refuses daily rows imported as 1m candles, naming the file, the lines and the spacing; writes nothing', async () => {
    const days = Array.from({ length: 30 }, (_, i) => {
      const date = new Date(Date.UTC(2021, 0, 1 + i)).toISOString().slice(0, 10);
      return `${date},100,110,90,105,1000`;
    });
    const daily = join(dir, 'daily.csv');
    writeFileSync(daily, ['date,open,high,low,close,volume', ...days].join('\n'));
    const result = await runCli([
      'import',
      ...['--file', daily, '--symbol', 'DAY-USDT', '--timeframe', '1m', '--exchange', 'okx', ...target.flags],
    ]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `rxtrade: ${daily}: the rows look like 1d candles, not 1m: consecutive rows are always a whole number of 1d apart ` +
        '(line 2 → line 3: 2021-01-01T00:00:00.000Z → 2021-01-02T00:00:00.000Z, and 1 more pair like it); ' +
        'import them with --timeframe 1d\n',
    });
    expect(await range('DAY-USDT', '1m')).toEqual([]);
    // As 1d they are fine.
    const ok = await runCli([
      'import',
      ...['--file', daily, '--symbol', 'DAY-USDT', '--timeframe', '1d', '--exchange', 'okx', ...target.flags],
    ]);
    expect(ok.code).toBe(0);
    expect(await range('DAY-USDT', '1d')).toHaveLength(30);
  }, 60_000);

  it('says what 1m rows imported as 1d look like when the second one is misaligned', async () => {
    const minutes = fixtureSlice(0, 5, 'minutes.csv');
    const result = await runCli([
      'import',
      ...[
        '--file',
        minutes,
        '--symbol',
        'MIN-USDT',
        '--timeframe',
        '1d',
        '--exchange',
        'okx',
        ...target.flags,
      ],
    ]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `rxtrade: ${minutes} line 3: time "1619222460000" is not aligned to 1d intervals (as a candle open time); ` +
        'it is 1m after the row on line 2: the rows look like 1m candles, not 1d (--timeframe 1m?)\n',
    });
  }, 60_000);

  it('stops at a bad row naming the file and line, and writes nothing (even after earlier batches)', async () => {
    const bad = fixtureWith(
      2000,
      '1619337600000,2021-04-25T08:00:00.000Z,49000,48000,49100,49050,1',
      'bad.csv',
    );
    const result = await runCli([
      'import',
      '--file',
      bad,
      '--symbol',
      'BAD-USDT',
      '--timeframe',
      '1m',
      '--label',
      'open',
      ...target.flags,
    ]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `rxtrade: ${bad} line 2000: low 49100 is above high 48000\n`,
    });
    await expect(
      runImport(
        optionsFor(target, { file: bad, symbol: 'BAD-USDT', timeframe: '1m', label: 'open', batchRows: 300 }),
        quietIo(),
      ),
    ).rejects.toThrow(`${bad} line 2000: low 49100 is above high 48000`);
    expect(await range('BAD-USDT', '1m')).toEqual([]);
  }, 60_000);
});

describe('rxtrade import usage errors', () => {
  const pglite = ['--pglite', join(dir, 'never-created')];
  const base = (over: Record<string, string | undefined>, ...extra: string[]): string[] => {
    const flags: Record<string, string | undefined> = {
      '--file': FIXTURE,
      '--symbol': 'B-U',
      '--timeframe': '1m',
      ...over,
    };
    return [
      ...Object.entries(flags).flatMap(([k, v]) => (v === undefined ? [] : [k, v])),
      ...extra,
      ...pglite,
    ];
  };
  const missing = join(dir, 'missing.csv');

  it.each([
    [
      'an unknown timeframe',
      base({ '--timeframe': '2m' }),
      'rxtrade: unknown timeframe "2m": use one of 1m, 5m, 15m, 1h, 4h, 1d\n',
    ],
    [
      '--derive without 1m',
      base({ '--timeframe': '5m' }, '--derive'),
      'rxtrade: --derive builds higher timeframes from 1m candles: it needs --timeframe 1m, not 5m\n',
    ],
    [
      'both databases',
      base({}, '--database-url', 'postgres://x'),
      'rxtrade: give --database-url or --pglite, not both\n',
    ],
    [
      'a missing file',
      base({ '--file': missing }),
      `rxtrade: cannot read candles file ${missing}: no such file\n`,
    ],
    ['an empty symbol', base({ '--symbol': ' ' }), 'rxtrade: --symbol is empty\n'],
    [
      'a bad --exchange',
      base({ '--exchange': 'OKX Sim' }),
      `rxtrade: --exchange "OKX Sim": use lowercase letters, digits and '-' (at most 32), such as okx, okx-sim or kraken\n`,
    ],
    [
      'a --database-url that is not a URL',
      ['--file', FIXTURE, '--symbol', 'B-U', '--timeframe', '1m', '--database-url', 'garbage'],
      'rxtrade: --database-url is not a URL: "garbage"\n',
    ],
    [
      'a --database-url that is not Postgres',
      ['--file', FIXTURE, '--symbol', 'B-U', '--timeframe', '1m', '--database-url', 'mysql://db/x'],
      'rxtrade: --database-url must start with postgres:// or postgresql://, got "mysql://db/x"\n',
    ],
  ])('%s', async (_what, args, stderr) => {
    expect(await runCli(['import', ...args])).toEqual({ code: 1, stdout: '', stderr });
  });

  it.each([
    ['no --file', base({ '--file': undefined }), /required option '--file <file>' not specified/],
    ['no --symbol', base({ '--symbol': undefined }), /required option '--symbol <symbol>' not specified/],
    [
      'no --timeframe',
      base({ '--timeframe': undefined }),
      /required option '--timeframe <tf>' not specified/,
    ],
    [
      'a bad --label',
      base({ '--label': 'middle' }),
      /option '--label <label>' argument 'middle' is invalid. Allowed choices are open, close/,
    ],
  ])('%s', async (_what, args, stderr) => {
    const result = await runCli(['import', ...args]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(stderr);
  });

  it('says a label contradicting the time column is an error, before the database is opened', async () => {
    const folder = join(dir, 'label-mismatch');
    const result = await runCli([
      'import',
      '--file',
      FIXTURE,
      '--symbol',
      'B-U',
      '--timeframe',
      '1m',
      '--label',
      'close',
      '--pglite',
      folder,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 1: the time column "open_time_ms" holds open times/);
    expect(existsSync(folder)).toBe(false); // no PGlite folder made (and left behind) for a refused file
  });

  it('refuses a file without the candle columns, or with a bad first row, before the database is opened', async () => {
    for (const [name, text, error] of [
      ['no-columns.csv', 'foo,bar\n1,2\n', /no-columns\.csv line 1: missing column: need time/],
      ['bad-row.csv', 'ts,open,high,low,close,volume\n1704067260000,1,2,0.5,x,3\n', /bad-row\.csv line 2: /],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, text);
      const folder = join(dir, `refused-${name}`);
      const result = await runCli([
        'import',
        '--file',
        file,
        '--symbol',
        'B-U',
        '--timeframe',
        '1m',
        '--pglite',
        folder,
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(error);
      expect(existsSync(folder)).toBe(false);
    }
  });

  it('explains an unreachable Postgres in one line', async () => {
    const result = await runCli([
      'import',
      '--file',
      FIXTURE,
      '--symbol',
      'B-U',
      '--timeframe',
      '1m',
      '--database-url',
      'postgres://postgres@127.0.0.1:1/rxtrade',
    ]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'rxtrade: cannot use Postgres at 127.0.0.1:1/rxtrade: nothing answers (ECONNREFUSED) (URL from --database-url)\n',
    });
  });
});

describe('rxtrade import, two at once into one Postgres', () => {
  let target: Target;
  beforeAll(async () => {
    target = await postgresTarget();
  }, 60_000);
  afterAll(() => target?.dispose());

  it('stores the file once: the import that loses the race falls back from COPY to the upsert', async () => {
    const run = () =>
      runImport(
        optionsFor(target, {
          file: FIXTURE,
          symbol: 'RACE-USDT',
          timeframe: '1m',
          label: 'open',
          batchRows: 500,
        }),
        quietIo(),
      );
    const results = await Promise.all([run(), run()]);
    const inserted = results.map((r) => r.inserted).sort((a, b) => a - b);
    expect(inserted).toEqual([0, ROWS]);
    expect(results.map((r) => r.unchanged).sort((a, b) => a - b)).toEqual([0, ROWS]);
    const stored = await target.use((db) =>
      new CandleStore(db).range('RACE-USDT', '1m', 0, Number.MAX_SAFE_INTEGER),
    );
    expect(stored).toEqual(await fileCandles('RACE-USDT'));
  }, 60_000);
});
