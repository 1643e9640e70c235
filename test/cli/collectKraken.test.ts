import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCollect } from '../../src/cli/commands/collect.js';
import { readEnv } from '../../src/config/env.js';
import type { Candle } from '../../src/domain/candle.js';
import type { OkxSimulator, SimTrade } from '../../src/sim/okxSimulator.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import { openDatabase } from '../../src/storage/database.js';
import { seededPgliteFolder } from '../storage/support/databases.js';

const MIN = 60_000;
const FIVE = 5 * MIN;
const SYMBOLS = ['BTC-USDT', 'ETH-USDT'];

type Ohlcv = Pick<Candle, 'closeTimeMs' | 'open' | 'high' | 'low' | 'close' | 'volume' | 'tradesCount'>;

/**
 * The simulator's candles of `intervalMs` closing in (fromMs, toMs], straight from the trades it generated
 * (the ground truth); a minute without trades carries the previous close, as the collector's do.
 */
function truthCandles(
  trades: readonly SimTrade[],
  intervalMs: number,
  fromMs: number,
  toMs: number,
): Ohlcv[] {
  const out: Ohlcv[] = [];
  let prevClose = Number.NaN;
  let i = 0;
  for (let close = fromMs + intervalMs; close <= toMs; close += intervalMs) {
    while (i < trades.length && (trades[i] as SimTrade).ts < close - intervalMs) {
      prevClose = Number((trades[i] as SimTrade).px);
      i += 1;
    }
    const c: Ohlcv = {
      closeTimeMs: close,
      open: prevClose,
      high: prevClose,
      low: prevClose,
      close: prevClose,
      volume: 0,
      tradesCount: 0,
    };
    const m = { ...c };
    for (; i < trades.length && (trades[i] as SimTrade).ts < close; i++) {
      const t = trades[i] as SimTrade;
      const px = Number(t.px);
      if (m.tradesCount === 0) m.open = m.high = m.low = px;
      m.high = Math.max(m.high, px);
      m.low = Math.min(m.low, px);
      m.close = px;
      m.volume += Number(t.sz);
      m.tradesCount += 1;
    }
    prevClose = m.close;
    out.push({ ...m, volume: Number(m.volume.toFixed(6)) });
  }
  return out;
}

const ohlcv = (c: Candle): Ohlcv => ({
  closeTimeMs: c.closeTimeMs,
  open: c.open,
  high: c.high,
  low: c.low,
  close: c.close,
  volume: Number(c.volume.toFixed(6)),
  tradesCount: c.tradesCount,
});

/**
 * `rxtrade collect --sim --exchange kraken`, offline: the embedded simulator speaks Kraken's dialect on a
 * second port, ccxt.pro.kraken (unmodified) reads it, and the candles stored as `kraken-sim` are the
 * simulator's own.
 *
 * A busy machine delays trades behind the simulator's clock, which then closes minutes before all their
 * trades came (revised when they do): so the run stops once, for every symbol, the trades of at least a
 * whole 5m bucket after its first (partial) minute have come through and what they made is committed.
 * Every 1m and 5m candle of those minutes must then equal the ground truth, none missing.
 */
describe('rxtrade collect --sim --exchange kraken', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rxtrade-kraken-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stores 1m and 5m candles under kraken-sim equal to the simulator ground truth', async () => {
    const pglite = await seededPgliteFolder(join(dir, 'pglite'));
    let stop: () => void = () => undefined;
    const interrupted = new Promise<void>((resolve) => (stop = resolve));
    const stderr = new PassThrough();
    const errText: Buffer[] = [];
    stderr.on('data', (b: Buffer) => errText.push(b));
    let sim: OkxSimulator | undefined;
    /** Per symbol: close of the minute of its first trade (partial, not stored), and of its newest trade. */
    const first = new Map<string, number>();
    const newest = new Map<string, number>();
    /** Close of the last minute whose trades have all come through, per symbol, when the run stopped. */
    const covered = new Map<string, number>();
    await runCollect(
      {
        pglite,
        exchange: 'kraken',
        symbols: SYMBOLS,
        timeframes: ['1m', '5m'],
        rawTrades: false,
        sim: { speed: 30 },
        print: undefined,
        statusEveryMs: 60_000,
        command: 'collect',
        attach: (ctx) => {
          sim = ctx.sim;
          let stopping = false;
          /** The first 5m bucket opening at or after the first whole minute has all its trades. */
          const bucketDone = (symbol: string): boolean => {
            const f = first.get(symbol);
            const n = newest.get(symbol);
            if (f === undefined || n === undefined) return false;
            const firstBucketClose = Math.ceil(f / FIVE) * FIVE + FIVE;
            return n - MIN >= firstBucketClose;
          };
          ctx.collector.trades$.subscribe((t) => {
            const close = t.tsMs - (t.tsMs % MIN) + MIN;
            if (!first.has(t.symbol)) first.set(t.symbol, close);
            newest.set(t.symbol, close);
            if (stopping || !SYMBOLS.every(bucketDone)) return;
            stopping = true;
            // Trades come in id order per symbol: every trade before the newest one has come.
            for (const s of SYMBOLS) covered.set(s, (newest.get(s) as number) - MIN);
            // Late trades revise their candle at the end of their burst (a scheduler turn later); then
            // wait until everything emitted is committed, and stop.
            setTimeout(() => void ctx.collector.flushed().then(stop), 20);
          });
          return Promise.resolve({ close: () => Promise.resolve() });
        },
      },
      { stdout: new PassThrough(), stderr, interactive: false, interrupted },
      readEnv({ ...process.env, RXTRADE_DATA_DIR: dir, LOG_LEVEL: 'warn' }),
    );
    const log = Buffer.concat(errText).toString('utf8');
    expect(log).toMatch(/kraken dialect .* through ccxt\.pro into .* as exchange 'kraken-sim'/);
    expect(sim).toBeDefined();
    expect([...covered.keys()].sort()).toEqual([...SYMBOLS].sort());

    const db = await openDatabase({ pglitePath: pglite });
    try {
      const store = new CandleStore(db, 'kraken-sim');
      for (const symbol of SYMBOLS) {
        const from = first.get(symbol) as number;
        const to = covered.get(symbol) as number;
        const truth = sim?.groundTruth(symbol) ?? [];
        // range: fromMs ≤ closeTimeMs < toMs. The first minute (the stream started inside it) is never stored.
        expect(await store.range(symbol, '1m', 0, from + 1)).toEqual([]);
        const m1 = await store.range(symbol, '1m', from + 1, to + 1);
        expect(m1.length).toBeGreaterThanOrEqual(5);
        expect({ symbol, candles: m1.map(ohlcv) }).toEqual({
          symbol,
          candles: truthCandles(truth, MIN, from, to),
        });
        // 5m: the buckets opening at or after the first whole minute and closed by the covered minutes.
        const m5from = Math.ceil(from / FIVE) * FIVE;
        const m5to = to - (to % FIVE);
        const m5 = await store.range(symbol, '5m', m5from + 1, m5to + 1);
        expect(m5.length).toBeGreaterThanOrEqual(1);
        expect({ symbol, candles: m5.map(ohlcv) }).toEqual({
          symbol,
          candles: truthCandles(truth, FIVE, m5from, m5to),
        });
      }
      // Nothing of it is stored as OKX data.
      expect(await new CandleStore(db, 'okx-sim').newestCloseTimeMs()).toBeUndefined();
    } finally {
      await db.close();
    }
  }, 180_000);
});
