import type { Candle } from '../../src/domain/candle.js';
import { candlePageSql, readCandleColumns, type CandleColumns } from '../../src/storage/candleColumns.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import { migrate } from '../../src/storage/migrate.js';
import { freshPglite, freshPostgres, type TestDatabase } from './support/databases.js';

const T0 = Date.UTC(2024, 7, 8, 23, 55);
const MIN = 60_000;
const N = 2_500;

function candle(i: number, over: Partial<Candle> = {}): Candle {
  return {
    symbol: 'BTC-USDT',
    timeframe: '1m',
    closeTimeMs: T0 + i * MIN,
    open: 61837.63 + i,
    high: 61855.37 + i,
    low: 61824.00000001 + i,
    close: 61828.12345678 + i,
    volume: 12.43238 + i / 3,
    tradesCount: 875 + i,
    closed: true,
    revision: 0,
    ...over,
  };
}

/** The columns readCandleColumns should give for `candles`: the very numbers stored. */
function columnsOf(candles: readonly Candle[]): CandleColumns {
  const f = (pick: (c: Candle) => number): Float64Array => Float64Array.from(candles, pick);
  return {
    length: candles.length,
    closeTimeMs: Float64Array.from(candles, (c) => c.closeTimeMs),
    open: f((c) => c.open),
    high: f((c) => c.high),
    low: f((c) => c.low),
    close: f((c) => c.close),
    volume: f((c) => c.volume),
    tradesCount: Uint32Array.from(candles, (c) => c.tradesCount),
  };
}

describe.each([
  ['pglite', freshPglite],
  ['postgres', freshPostgres],
] as const)('readCandleColumns on %s', (_kind, open) => {
  let handle: TestDatabase;
  const all = Array.from({ length: N }, (_, i) => candle(i));

  beforeAll(async () => {
    handle = await open();
    await migrate(handle.db);
    const store = new CandleStore(handle.db);
    // Neighbours that must never show up: other symbol, timeframe and exchange, and a forming candle.
    await store.upsert([...all, candle(N, { closed: false }), candle(3, { symbol: 'ETH-USDT' })]);
    await store.upsert([candle(5, { timeframe: '5m' })]);
    await new CandleStore(handle.db, 'binance').upsert([candle(7, { open: 1, low: 1 })]);
  }, 60_000);
  afterAll(() => handle?.dispose());

  const read = (fromMs: number, toMs: number, chunkRows?: number, shape?: 'rows' | 'arrays') =>
    readCandleColumns(handle.db, {
      symbol: 'BTC-USDT',
      timeframe: '1m',
      fromMs,
      toMs,
      ...(chunkRows !== undefined ? { chunkRows } : {}),
      ...(shape !== undefined ? { shape } : {}),
    });

  it('reads a page through the index, not by scanning the table', async () => {
    await handle.db.exec('ANALYZE market_data');
    const literal = candlePageSql('>=')
      .replace('$1', "'okx'")
      .replace('$2', "'BTC-USDT'")
      .replace('$3', "'1m'")
      .replace('$4', String(T0 + 100 * MIN))
      .replace('$5', String(T0 + 200 * MIN))
      .replace('$6', '50000');
    const plan = (await handle.db.query<Record<string, string>>(`EXPLAIN ${literal}`))
      .map((r) => Object.values(r).join(' '))
      .join('\n');
    // An index range scan (plain, or bitmap then sort for a short page): never a scan of the whole table.
    expect(plan).toMatch(/Index (Only )?Scan|Bitmap Index Scan/);
    expect(plan).not.toMatch(/Seq Scan/);
  });

  it.each([undefined, 'rows', 'arrays'] as const)(
    'reads a whole range into typed arrays, oldest first, values as stored (shape %s)',
    async (shape) => {
      const cols = await read(0, Number.MAX_SAFE_INTEGER, undefined, shape);
      expect(cols).toEqual(columnsOf(all));
      expect(cols.closeTimeMs).toBeInstanceOf(Float64Array);
      expect(cols.tradesCount).toBeInstanceOf(Uint32Array);
    },
  );

  it.each(['rows', 'arrays'] as const)(
    'pages through a range bigger than one chunk without losing or repeating a row (shape %s)',
    async (shape) => {
      // Pages of 1 and 7 rows over 100 rows (one query a page: 2,480 queries over the whole range took
      // ~15 s on PGlite), the others over the whole range; each ends on a partial, a full or no last page.
      const short = { from: 10, to: 110 };
      for (const [chunkRows, from, to] of [
        [1, short.from, short.to],
        [7, short.from, short.to],
        [100, short.from, short.to],
        [1000, 10, N - 10],
        [N - 21, 10, N - 10],
        [N - 20, 10, N - 10],
        [N - 19, 10, N - 10],
      ] as const) {
        const cols = await read(T0 + from * MIN, T0 + to * MIN, chunkRows, shape);
        expect(cols.length).toBe(to - from);
        expect(cols).toEqual(columnsOf(all.slice(from, to)));
      }
    },
    60_000,
  );

  it('reads only the newest N of a range in one query, oldest first', async () => {
    for (const shape of ['rows', 'arrays'] as const) {
      const newest = await readCandleColumns(handle.db, {
        symbol: 'BTC-USDT',
        timeframe: '1m',
        fromMs: T0,
        toMs: T0 + (N - 10) * MIN,
        newest: 5,
        shape,
      });
      expect(newest).toEqual(columnsOf(all.slice(N - 15, N - 10)));
      const more = await readCandleColumns(handle.db, {
        symbol: 'BTC-USDT',
        timeframe: '1m',
        fromMs: T0 + 3 * MIN,
        toMs: T0 + 6 * MIN,
        newest: 1000,
        shape,
      });
      expect(Array.from(more.closeTimeMs)).toEqual([T0 + 3 * MIN, T0 + 4 * MIN, T0 + 5 * MIN]);
    }
    await expect(
      readCandleColumns(handle.db, { symbol: 'BTC-USDT', timeframe: '1m', fromMs: 0, toMs: T0, newest: 0 }),
    ).rejects.toThrow(/newest 0/);
  });

  it('includes fromMs and excludes toMs', async () => {
    for (const shape of ['rows', 'arrays'] as const) {
      const cols = await read(T0 + 3 * MIN, T0 + 6 * MIN, 2, shape);
      expect(Array.from(cols.closeTimeMs)).toEqual([T0 + 3 * MIN, T0 + 4 * MIN, T0 + 5 * MIN]);
    }
    const between = await read(T0 + 3 * MIN + 1, T0 + 4 * MIN + 1);
    expect(Array.from(between.closeTimeMs)).toEqual([T0 + 4 * MIN]);
  });

  it('gives empty columns for an empty or inverted range, and for an unknown symbol', async () => {
    const empty = {
      length: 0,
      closeTimeMs: new Float64Array(0),
      open: new Float64Array(0),
      high: new Float64Array(0),
      low: new Float64Array(0),
      close: new Float64Array(0),
      volume: new Float64Array(0),
      tradesCount: new Uint32Array(0),
    };
    expect(await read(T0 + 3 * MIN, T0 + 3 * MIN)).toEqual(empty);
    expect(await read(0, T0, undefined, 'arrays')).toEqual(empty);
    expect(await read(0, T0, undefined, 'rows')).toEqual(empty);
    expect(await read(T0 + 9 * MIN, T0 + 3 * MIN)).toEqual(empty);
    expect(await read(0, T0)).toEqual(empty);
    expect(
      await readCandleColumns(handle.db, { symbol: 'NOPE-USDT', timeframe: '1m', fromMs: 0, toMs: Infinity }),
    ).toEqual(empty);
  });

  it('keeps to its symbol, timeframe and exchange', async () => {
    const eth = await readCandleColumns(handle.db, {
      symbol: 'ETH-USDT',
      timeframe: '1m',
      fromMs: 0,
      toMs: Infinity,
    });
    expect(Array.from(eth.closeTimeMs)).toEqual([T0 + 3 * MIN]);
    const fiveMin = await readCandleColumns(handle.db, {
      symbol: 'BTC-USDT',
      timeframe: '5m',
      fromMs: 0,
      toMs: Infinity,
    });
    expect(Array.from(fiveMin.closeTimeMs)).toEqual([T0 + 5 * MIN]);
    const binance = await readCandleColumns(handle.db, {
      symbol: 'BTC-USDT',
      timeframe: '1m',
      fromMs: 0,
      toMs: Infinity,
      exchange: 'binance',
    });
    expect(binance).toEqual(columnsOf([candle(7, { open: 1, low: 1 })]));
  });

  it('works inside a transaction', async () => {
    const cols = await handle.db.transaction((tx) =>
      readCandleColumns(tx, { symbol: 'BTC-USDT', timeframe: '1m', fromMs: T0, toMs: T0 + 2 * MIN }),
    );
    expect(cols).toEqual(columnsOf(all.slice(0, 2)));
  });

  it('refuses a chunk size below 1 and NaN bounds', async () => {
    await expect(read(0, 1, 0)).rejects.toThrow(/chunkRows 0 is not an integer ≥ 1/);
    await expect(read(Number.NaN, 1)).rejects.toThrow(/fromMs and toMs must be numbers/);
  });
});
