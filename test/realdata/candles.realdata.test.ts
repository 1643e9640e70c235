/**
 * Real-data checks of trade → candle aggregation: the project's operators (tradesToCandles, resampleCandles),
 * driven the way the project processes recorded data (replayInVirtualTime on a VirtualClock), must agree with
 * the independent reference in test/support/referenceCandles.ts on recorded Binance trades, and on
 * variations of them (two symbols interleaved, runs of quiet minutes, thousands of trades in one ms).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, pipe, type OperatorFunction } from 'rxjs';
import { toArray } from 'rxjs/operators';
import type { Candle } from '../../src/domain/candle.js';
import type { Timeframe } from '../../src/domain/timeframe.js';
import type { Trade } from '../../src/domain/trade.js';
import { resampleCandles } from '../../src/operators/resampleCandles.js';
import { tradesToCandles } from '../../src/operators/tradesToCandles.js';
import { VirtualClock } from '../../src/scheduling/virtualClock.js';
import { replayInVirtualTime } from '../../src/streams/replay.js';
import {
  loadTradesCsv,
  referenceCandles,
  referenceCloseTime,
  referenceCompareTrades,
} from '../support/referenceCandles.js';

const FIXTURES_DIR = fileURLToPath(new URL('../../samples/', import.meta.url));
const MIN = 60_000;
/** 2024-08-08T23:55:00Z, the close of the first 1m (and 5m) candle of every fixture. */
const T2355 = Date.UTC(2024, 7, 8, 23, 55);
const at = (minutesAfter2355: number): number => T2355 + minutesAfter2355 * MIN;

const HIGHER: Timeframe[] = ['5m', '15m', '1h', '4h', '1d'];
const ALL: Timeframe[] = ['1m', ...HIGHER];

interface Fixture {
  readonly file: string;
  readonly symbol: string;
  /** Number of closed candles per timeframe, from the file's time range (first and last trade). */
  readonly counts: Readonly<Record<Timeframe, number>>;
}

const SPOT_BTC: Fixture = {
  file: 'binance_spot_BTCUSDT_trades_20240808T2354_20240809T0005.csv',
  symbol: 'BTC-USDT',
  // 23:54:15 → 00:05:05: 1m closes 23:55…00:05; 5m 23:55, 00:00, 00:05; 15m/1h/4h/1d close 00:00.
  counts: { '1m': 11, '5m': 3, '15m': 1, '1h': 1, '4h': 1, '1d': 1 },
};
const SPOT_ETH: Fixture = {
  file: 'binance_spot_ETHUSDT_trades_20240808T2354_20240809T0005.csv',
  symbol: 'ETH-USDT',
  counts: { '1m': 11, '5m': 3, '15m': 1, '1h': 1, '4h': 1, '1d': 1 },
};
const USDM_BTC: Fixture = {
  file: 'binance_usdm_BTCUSDT_trades_20240808T2354_20240808T2359.csv',
  symbol: 'BTC-USDT-SWAP',
  // 23:54:16 → 23:59:59: 1m closes 23:55…23:59; 5m 23:55; every longer interval is still forming.
  counts: { '1m': 5, '5m': 1, '15m': 0, '1h': 0, '4h': 0, '1d': 0 },
};
const FIXTURES = [SPOT_BTC, SPOT_ETH, USDM_BTC];

const loaded = new Map<string, Trade[]>();
function load(f: Fixture): Trade[] {
  let trades = loaded.get(f.file);
  if (trades === undefined) {
    trades = loadTradesCsv(join(FIXTURES_DIR, f.file), f.symbol);
    loaded.set(f.file, trades);
  }
  return trades;
}

// ---------------------------------------------------------------------------------------------------------
// Driving the project's operators

async function run(
  trades: readonly Trade[],
  build: (clock: VirtualClock) => OperatorFunction<Trade, Candle>,
) {
  const clock = new VirtualClock();
  return firstValueFrom(replayInVirtualTime(trades, (t) => t.tsMs, clock).pipe(build(clock), toArray()));
}

/** 1m candles from tradesToCandles, resampled to `timeframes` (include '1m' to keep the 1m candles). */
function runResampled(trades: readonly Trade[], timeframes: Timeframe[]): Promise<Candle[]> {
  return run(trades, (clock) =>
    pipe(tradesToCandles({ timeframe: '1m' }, clock), resampleCandles(timeframes)),
  );
}

/** Candles of one timeframe built by tradesToCandles directly from the trades. */
function runDirect(trades: readonly Trade[], timeframe: Timeframe): Promise<Candle[]> {
  return run(trades, (clock) => tradesToCandles({ timeframe }, clock));
}

const only = (candles: readonly Candle[], timeframe: Timeframe, symbol?: string): Candle[] =>
  candles.filter((c) => c.timeframe === timeframe && (symbol === undefined || c.symbol === symbol));

// ---------------------------------------------------------------------------------------------------------
// Comparison, reporting every difference precisely

const iso = (ms: number): string => new Date(ms).toISOString();
const key = (c: Candle): string => `${c.symbol} ${c.timeframe} ${c.closeTimeMs}`;

function sameVolume(expected: number, actual: number): boolean {
  if (expected === actual) return true;
  return Math.abs(expected - actual) <= 1e-9 * Math.max(Math.abs(expected), Math.abs(actual));
}

/**
 * Differences between expected (reference) and actual (operator) candles, as readable lines: count, order,
 * missing/extra candles, and per candle symbol/timeframe/closeTimeMs/OHLC/tradesCount exactly, volume within
 * 1e-9 relative, closed = true and revision = 0 (in-order data: nothing is ever revised).
 */
function differences(label: string, expected: readonly Candle[], actual: readonly Candle[]): string[] {
  const out: string[] = [];
  if (expected.length !== actual.length) {
    out.push(`${label}: count expected ${expected.length} actual ${actual.length}`);
  }
  const actualByKey = new Map(actual.map((c) => [key(c), c]));
  const expectedKeys = new Set(expected.map(key));
  for (const c of actual) {
    if (!expectedKeys.has(key(c))) out.push(`${label}: unexpected candle ${key(c)} (${iso(c.closeTimeMs)})`);
  }
  for (const e of expected) {
    const a = actualByKey.get(key(e));
    const where = `${label}: ${e.symbol} ${e.timeframe} closeTimeMs=${e.closeTimeMs} (${iso(e.closeTimeMs)})`;
    if (a === undefined) {
      out.push(`${where}: missing`);
      continue;
    }
    for (const field of ['open', 'high', 'low', 'close', 'tradesCount'] as const) {
      if (e[field] !== a[field]) out.push(`${where} ${field}: expected ${e[field]} actual ${a[field]}`);
    }
    if (!sameVolume(e.volume, a.volume)) out.push(`${where} volume: expected ${e.volume} actual ${a.volume}`);
    if (a.closed !== true) out.push(`${where} closed: expected true actual ${String(a.closed)}`);
    if (a.revision !== 0) out.push(`${where} revision: expected 0 actual ${a.revision}`);
  }
  const expectedOrder = expected.map(key).join(' | ');
  const actualOrder = actual.map(key).join(' | ');
  if (out.length === 0 && expectedOrder !== actualOrder) {
    out.push(`${label}: order differs\n  expected ${expectedOrder}\n  actual   ${actualOrder}`);
  }
  return out;
}

const emptyCount = (candles: readonly Candle[]): number =>
  candles.filter((c) => c.tradesCount === 0 && c.volume === 0).length;

// ---------------------------------------------------------------------------------------------------------

describe('reference candles (self-check)', () => {
  test('match values computed independently (Python, exact decimals) on real trades', () => {
    const spot = load(SPOT_BTC);
    const spot5m = referenceCandles(spot, '5m').find((c) => c.closeTimeMs === at(5));
    expect(spot5m).toMatchObject({
      open: 61828,
      high: 61860.8,
      low: 61583.22,
      close: 61685.99,
      tradesCount: 8863,
    });
    expect(spot5m?.volume).toBeCloseTo(199.42863, 8);
    const spot1m = referenceCandles(spot, '1m')[0];
    expect(spot1m).toMatchObject({ closeTimeMs: T2355, open: 61837.63, high: 61855.37, low: 61824 });
    expect(spot1m).toMatchObject({ close: 61828, tradesCount: 875 });
    expect(spot1m?.volume).toBeCloseTo(12.43238, 8);

    const usdm1m = referenceCandles(load(USDM_BTC), '1m').find((c) => c.closeTimeMs === at(1));
    expect(usdm1m).toMatchObject({
      open: 61807.7,
      high: 61839.9,
      low: 61760.3,
      close: 61760.3,
      tradesCount: 2005,
    });
    expect(usdm1m?.volume).toBeCloseTo(136.45, 8);
  });

  test('follow the boundary, tie-break, empty-interval and forming-interval rules on hand-made trades', () => {
    const t = (tradeId: string, tsMs: number, price: number): Trade => ({
      symbol: 'X',
      tradeId,
      tsMs,
      price,
      size: 1,
      side: 'unknown',
    });
    // Listed out of order on purpose; ids '10' > '9' numerically.
    const trades = [
      t('10', 1_000, 7),
      t('9', 1_000, 5),
      t('11', MIN, 8),
      t('12', 3 * MIN + 5, 6),
      t('13', 4 * MIN, 1),
    ];
    const rows = referenceCandles(trades, '1m').map((c) => [c.closeTimeMs, c.open, c.close, c.tradesCount]);
    expect(rows).toEqual([
      [MIN, 5, 7, 2], // trade '9' opens (same ms, smaller id); the trade at exactly 60 000 is not in here
      [2 * MIN, 8, 8, 1],
      [3 * MIN, 8, 8, 0], // quiet minute: previous close carried
      [4 * MIN, 6, 6, 1], // the minute holding the last trade (4·MIN) is still forming: not output
    ]);
    expect(referenceCandles(trades, '5m')).toEqual([]);
  });
});

describe.each(FIXTURES)('real trades $file', (fixture) => {
  let trades: Trade[];
  let resampled: Candle[];

  beforeAll(async () => {
    trades = load(fixture);
    resampled = await runResampled(trades, ALL);
  });

  test('fixture is what the test expects (sorted by time, one symbol, thousands of trades)', () => {
    expect(trades.length).toBeGreaterThan(10_000);
    const sorted = [...trades].sort(referenceCompareTrades);
    expect(sorted.map((t) => t.tradeId)).toEqual(trades.map((t) => t.tradeId));
    for (const tf of ALL) expect(referenceCandles(trades, tf)).toHaveLength(fixture.counts[tf]);
  });

  test('1m candles from tradesToCandles equal the reference', async () => {
    const expected = referenceCandles(trades, '1m');
    expect(expected.length).toBeGreaterThan(0);
    const actual = await runDirect(trades, '1m');
    expect(differences(`${fixture.file} tradesToCandles`, expected, actual)).toEqual([]);
  });

  test('1m candles passed through resampleCandles are unchanged', () => {
    expect(
      differences(`${fixture.file} resample 1m`, referenceCandles(trades, '1m'), only(resampled, '1m')),
    ).toEqual([]);
  });

  test.each(HIGHER)('%s candles from resampleCandles equal the reference computed from trades', (tf) => {
    const expected = referenceCandles(trades, tf);
    expect(expected).toHaveLength(fixture.counts[tf]);
    expect(differences(`${fixture.file} resample`, expected, only(resampled, tf))).toEqual([]);
  });

  test.each(['5m', '15m', '1h'] as Timeframe[])(
    '%s candles from tradesToCandles({ timeframe }) equal the reference',
    async (tf) => {
      const actual = await runDirect(trades, tf);
      expect(differences(`${fixture.file} tradesToCandles`, referenceCandles(trades, tf), actual)).toEqual(
        [],
      );
    },
  );
});

describe('two spot symbols merged into one stream', () => {
  let btc: Trade[];
  let eth: Trade[];
  let merged: Trade[];

  beforeAll(() => {
    btc = load(SPOT_BTC);
    eth = load(SPOT_ETH);
    // Interleave by time (stable: at equal times BTC first).
    merged = [];
    let i = 0;
    let j = 0;
    while (i < btc.length || j < eth.length) {
      const b = btc[i];
      const e = eth[j];
      if (e === undefined || (b !== undefined && b.tsMs <= e.tsMs)) {
        merged.push(b as Trade);
        i++;
      } else {
        merged.push(e);
        j++;
      }
    }
  });

  test('the merged stream really interleaves the two symbols', () => {
    expect(merged).toHaveLength(btc.length + eth.length);
    let switches = 0;
    for (let k = 1; k < merged.length; k++) if (merged[k]?.symbol !== merged[k - 1]?.symbol) switches++;
    expect(switches).toBeGreaterThan(1_000);
    expect(merged.every((t, k) => k === 0 || t.tsMs >= (merged[k - 1] as Trade).tsMs)).toBe(true);
  });

  test('per-symbol candles (1m and resampled) equal each file replayed alone, and the reference', async () => {
    const together = await runResampled(merged, ALL);
    const alone = new Map([
      [SPOT_BTC.symbol, await runResampled(btc, ALL)],
      [SPOT_ETH.symbol, await runResampled(eth, ALL)],
    ]);
    const problems: string[] = [];
    for (const [symbol, trades] of [
      [SPOT_BTC.symbol, btc],
      [SPOT_ETH.symbol, eth],
    ] as const) {
      for (const tf of ALL) {
        const mine = only(together, tf, symbol);
        const ownStream = only(alone.get(symbol) ?? [], tf);
        expect(mine.length).toBeGreaterThan(0);
        expect(mine).toEqual(ownStream);
        problems.push(...differences(`merged spot ${symbol}`, referenceCandles(trades, tf), mine));
      }
    }
    expect(problems).toEqual([]);
    expect(new Set(together.map((c) => c.symbol))).toEqual(new Set([SPOT_BTC.symbol, SPOT_ETH.symbol]));
  });
});

describe('stress: runs of quiet minutes cut out of the BTC spot trades', () => {
  // Dropped: 23:55–00:01 (six quiet minutes over the 00:00 5m boundary; the 5m closing 00:00 is then empty
  // and the 5m closing 00:05 starts with a quiet minute) and 00:03–00:04 (one quiet minute).
  const dropped = (ts: number): boolean => (ts >= at(0) && ts < at(6)) || (ts >= at(8) && ts < at(9));
  let trades: Trade[];

  beforeAll(() => {
    trades = load(SPOT_BTC).filter((t) => !dropped(t.tsMs));
  });

  test('the reference has the intended quiet candles', () => {
    const oneMinute = referenceCandles(trades, '1m');
    expect(oneMinute).toHaveLength(11);
    expect(emptyCount(oneMinute)).toBe(7);
    // Six consecutive empty 1m candles (closes 23:56 … 00:01), each carrying the 23:54 minute's close.
    const run = oneMinute.filter((c) => c.closeTimeMs >= at(1) && c.closeTimeMs <= at(6));
    expect(run.map((c) => c.tradesCount)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(new Set(run.map((c) => c.close))).toEqual(new Set([oneMinute[0]?.close]));

    const fiveMinute = referenceCandles(trades, '5m');
    expect(fiveMinute.map((c) => c.closeTimeMs)).toEqual([at(0), at(5), at(10)]);
    expect(fiveMinute[1]).toMatchObject({ tradesCount: 0, volume: 0, open: fiveMinute[0]?.close });
    // The 5m closing 00:05 opens at the first trade of 00:01, not at the carried close of its quiet first
    // minute (which would be the resampler's mistake if it took the first 1m candle's open).
    const firstOf0001 = trades.find((t) => t.tsMs >= at(6));
    expect(fiveMinute[2]?.open).toBe(firstOf0001?.price);
    expect(fiveMinute[2]?.open).not.toBe(oneMinute[0]?.close);
  });

  test('1m and 5m from the operators equal the reference', async () => {
    const direct = await runDirect(trades, '1m');
    const resampled = await runResampled(trades, ['1m', '5m', '15m']);
    expect(emptyCount(direct)).toBeGreaterThan(0);
    expect([
      ...differences('stress tradesToCandles', referenceCandles(trades, '1m'), direct),
      ...differences('stress resample', referenceCandles(trades, '1m'), only(resampled, '1m')),
      ...differences('stress resample', referenceCandles(trades, '5m'), only(resampled, '5m')),
      ...differences('stress resample', referenceCandles(trades, '15m'), only(resampled, '15m')),
    ]).toEqual([]);
  });
});

describe('burst: 5 000 consecutive real BTC spot trades in one millisecond', () => {
  const BURST = 5_000;
  const burstMs = at(2); // 23:57:00.000, the first instant of the minute closing 23:58
  let original: Trade[];
  let start: number;

  /** Trades with the burst compressed to `burstMs`, the burst itself arranged by `arrange`. */
  function compressed(arrange: (burst: Trade[]) => Trade[]): Trade[] {
    const burst = original.slice(start, start + BURST).map((t) => ({ ...t, tsMs: burstMs }));
    return [...original.slice(0, start), ...arrange(burst), ...original.slice(start + BURST)];
  }

  /** Deterministic Fisher–Yates with a small LCG. */
  function shuffled<T>(items: readonly T[], seed: number): T[] {
    const a = [...items];
    let s = seed >>> 0;
    for (let i = a.length - 1; i > 0; i--) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const j = s % (i + 1);
      [a[i], a[j]] = [a[j] as T, a[i] as T];
    }
    return a;
  }

  beforeAll(() => {
    original = load(SPOT_BTC);
    start = original.findIndex((t) => t.tsMs >= burstMs);
  });

  test('the burst fills its minute alone and its first/last ids are the open/close', () => {
    expect(start).toBeGreaterThan(0);
    const trades = compressed((b) => b);
    const after = trades[start + BURST];
    expect(after !== undefined && after.tsMs >= referenceCloseTime(burstMs, MIN)).toBe(true);
    const candle = referenceCandles(trades, '1m').find((c) => c.closeTimeMs === at(3));
    const burst = trades.slice(start, start + BURST);
    expect(candle).toMatchObject({
      tradesCount: BURST,
      open: burst[0]?.price,
      close: burst[BURST - 1]?.price,
    });
    expect(burst[0]?.price).not.toBe(burst[BURST - 1]?.price);
  });

  test('burst arriving in id order: 1m and 5m from the operators equal the reference', async () => {
    const trades = compressed((b) => b);
    const resampled = await runResampled(trades, ['1m', '5m']);
    expect(only(resampled, '1m').length).toBeGreaterThan(0);
    expect([
      ...differences(
        'burst in id order, tradesToCandles',
        referenceCandles(trades, '1m'),
        await runDirect(trades, '1m'),
      ),
      ...differences('burst in id order, resample', referenceCandles(trades, '1m'), only(resampled, '1m')),
      ...differences('burst in id order, resample', referenceCandles(trades, '5m'), only(resampled, '5m')),
    ]).toEqual([]);
  });

  test('burst arriving shuffled within the millisecond: open/close still follow trade ids', async () => {
    const trades = compressed((b) => shuffled(b, 20240809));
    const burst = trades.slice(start, start + BURST);
    const byId = [...burst].sort(referenceCompareTrades);
    // Arrival order must disagree with id order at both ends, or the test could not fail.
    expect(burst[0]?.price).not.toBe(byId[0]?.price);
    expect(burst[BURST - 1]?.price).not.toBe(byId[BURST - 1]?.price);
    const expected = referenceCandles(trades, '1m');
    expect(expected.find((c) => c.closeTimeMs === at(3))).toMatchObject({
      open: byId[0]?.price,
      close: byId[BURST - 1]?.price,
    });

    const resampled = await runResampled(trades, ['1m', '5m']);
    expect([
      ...differences('burst shuffled, tradesToCandles', expected, await runDirect(trades, '1m')),
      ...differences('burst shuffled, resample', expected, only(resampled, '1m')),
      ...differences('burst shuffled, resample', referenceCandles(trades, '5m'), only(resampled, '5m')),
    ]).toEqual([]);
  });
});
