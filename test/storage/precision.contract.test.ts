import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { candleSink } from '../../src/sinks/storeSinks.js';
import { readCandleColumns } from '../../src/storage/candleColumns.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import { migrate } from '../../src/storage/migrate.js';
import { RawTradeStore } from '../../src/storage/rawTradeStore.js';
import { freshPglite, freshPostgres, type TestDatabase } from './support/databases.js';
import { preciseCandles } from './support/preciseCandles.js';

/**
 * Prices and sizes of every OKX instrument survive storage exactly (issue 9, point 2; see preciseCandles):
 * "exactly" means the same JS number comes back, through every write and read path of market_data.
 */

describe.each([
  ['pglite', freshPglite],
  ['postgres', freshPostgres],
] as const)('prices and volumes round-trip exactly on %s', (_kind, open) => {
  let handle: TestDatabase;
  const dir = mkdtempSync(join(tmpdir(), 'rxtrade-precision-'));

  beforeAll(async () => {
    handle = await open();
    await migrate(handle.db);
  }, 60_000);
  afterAll(async () => {
    await handle?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const all = (symbol: string) => new CandleStore(handle.db).range(symbol, '1m', 0, Number.MAX_SAFE_INTEGER);

  it('CandleStore.upsert → range', async () => {
    const candles = preciseCandles('PEPE-USDT');
    expect(await new CandleStore(handle.db).upsert(candles)).toEqual({
      inserted: candles.length,
      updated: 0,
      unchanged: 0,
    });
    expect(await all('PEPE-USDT')).toEqual(candles);
    // Replaying the same candles is still recognised as a replay: the stored values equal them.
    expect(await new CandleStore(handle.db).upsert(candles)).toMatchObject({ unchanged: candles.length });
  });

  it("the collector's candle sink (COPY → staging table → upsert)", async () => {
    const candles = preciseCandles('SINK-USDT');
    const sink = candleSink(handle.db, { spillPath: join(dir, 'spill.jsonl') });
    for (const c of candles) sink.add(c);
    await sink.close();
    expect(sink.stats()).toMatchObject({ written: candles.length, rejected: 0, failures: 0 });
    expect(await all('SINK-USDT')).toEqual(candles);
  });

  it('raw trades (prices and sizes in jsonb)', async () => {
    const t0 = Date.UTC(2024, 4, 1);
    const trades = preciseCandles('PEPE-USDT')
      .flatMap((c, i) => [
        { symbol: 'PEPE-USDT', tradeId: `${2 * i}`, tsMs: t0 + 2 * i, price: c.low, size: c.volume },
        { symbol: 'PEPE-USDT', tradeId: `${2 * i + 1}`, tsMs: t0 + 2 * i + 1, price: c.close, size: c.open },
      ])
      .map((t) => ({ ...t, side: 'buy' as const }));
    const store = new RawTradeStore(handle.db);
    expect(await store.insert(trades)).toBe(trades.length);
    expect(await store.range('PEPE-USDT', t0, t0 + 1000)).toEqual(trades);
  });

  it.each(['rows', 'arrays'] as const)('readCandleColumns (%s)', async (shape) => {
    const candles = preciseCandles('COLS-USDT');
    await new CandleStore(handle.db).upsert(candles);
    const cols = await readCandleColumns(handle.db, {
      symbol: 'COLS-USDT',
      timeframe: '1m',
      fromMs: 0,
      toMs: Number.MAX_SAFE_INTEGER,
      shape,
    });
    expect(cols.length).toBe(candles.length);
    expect(Array.from(cols.open)).toEqual(candles.map((c) => c.open));
    expect(Array.from(cols.high)).toEqual(candles.map((c) => c.high));
    expect(Array.from(cols.low)).toEqual(candles.map((c) => c.low));
    expect(Array.from(cols.close)).toEqual(candles.map((c) => c.close));
    expect(Array.from(cols.volume)).toEqual(candles.map((c) => c.volume));
  });
});
