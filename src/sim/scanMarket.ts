import type { Candle } from '../domain/candle.js';
import { MINUTE_MS } from '../domain/timeframe.js';
import type { SimInstrument } from './okxSimulator.js';
import { deriveSeed, Prng } from './prng.js';

/**
 * What a simulated symbol is like: its price level and tick (the synthetic book is one tick either side of
 * the last price, so the spread is 2 ticks), volume per minute (base units), per-minute volatility, and
 * optionally a scripted path (per-minute return and volume multiplier by minute index).
 */
export interface ScanSymbolSpec {
  readonly instId: string;
  readonly price: number;
  /** Price decimals: the tick is 10^−decimals. */
  readonly decimals: number;
  readonly volumePerMinute: number;
  /** Standard deviation of the 1m return, as a fraction (0.001 = 0.1 %). */
  readonly volatility: number;
  readonly script?: (minute: number) => { readonly drift: number; readonly volume: number } | undefined;
}

/** The spread the simulator shows for a spec at price `price`, percent of the mid. */
export function expectedSpreadPct(spec: Pick<ScanSymbolSpec, 'decimals'>, price: number): number {
  return ((2 * 10 ** -spec.decimals) / price) * 100;
}

/**
 * `minutes` 1m candles for a spec, deterministic for the seed: a random walk (uniform returns of the given
 * standard deviation), or the script's drift where it returns one; volumes ±20 % around the mean.
 */
export function scanCandles(spec: ScanSymbolSpec, minutes: number, startMs: number, seed: number): Candle[] {
  const rng = new Prng(deriveSeed(seed, spec.instId));
  const out: Candle[] = [];
  const step = 10 ** -spec.decimals;
  const round = (x: number): number => Number((Math.round(x / step) * step).toFixed(spec.decimals));
  let prev = round(spec.price);
  const halfWidth = spec.volatility * Math.sqrt(3);
  for (let m = 0; m < minutes; m++) {
    const scripted = spec.script?.(m);
    const r = scripted?.drift ?? (rng.next() * 2 - 1) * halfWidth;
    const open = prev;
    const close = Math.max(step, round(open * (1 + r)));
    const wick = (): number => rng.next() * spec.volatility * 0.5;
    const high = Number(
      (Math.ceil((Math.max(open, close) * (1 + wick())) / step) * step).toFixed(spec.decimals),
    );
    const low = Math.max(
      step,
      Number((Math.floor((Math.min(open, close) * (1 - wick())) / step) * step).toFixed(spec.decimals)),
    );
    const volume = Number(
      (spec.volumePerMinute * (0.8 + 0.4 * rng.next()) * (scripted?.volume ?? 1)).toFixed(4),
    );
    out.push({
      symbol: spec.instId,
      timeframe: '1m',
      closeTimeMs: startMs + (m + 1) * MINUTE_MS,
      open,
      high,
      low,
      close,
      volume,
      tradesCount: 1,
      closed: true,
      revision: 0,
    });
    prev = close;
  }
  return out;
}

/**
 * A market of `count` symbols for the scanner, with known liquidity and spreads, cycling through kinds:
 * most are liquid USDT pairs with tight spreads; every 10th-from-6 is quoted in USDC, from-7 is illiquid
 * (a thousandth of the volume), from-8 has a wide spread (a 0.5 % tick), from-9 is wild (2 % per minute).
 * Every 5th liquid pair from the 3rd gets a momentum burst (rising with 3× volume) once an hour, at minute
 * 150 + its index. The first symbol is BTC-USDT.
 */
export function scanMarketSpecs(count: number): ScanSymbolSpec[] {
  const specs: ScanSymbolSpec[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 10;
    const base = i === 0 ? 'BTC' : `S${String(i).padStart(3, '0')}`;
    const quote = kind === 6 ? 'USDC' : 'USDT';
    const price = i === 0 ? 60_000 : 20 + ((i * 37) % 180);
    const common = { instId: `${base}-${quote}`, price, decimals: i === 0 ? 1 : 3 };
    if (kind === 7) specs.push({ ...common, volumePerMinute: 0.5, volatility: 0.001 });
    else if (kind === 8)
      specs.push({ ...common, decimals: 0, price: 400, volumePerMinute: 5000, volatility: 0.001 });
    else if (kind === 9) specs.push({ ...common, volumePerMinute: 20_000, volatility: 0.02 });
    else {
      const burstAt = 150 + i;
      const bursty = kind === 3 || kind === 4;
      specs.push({
        ...common,
        volumePerMinute: i === 0 ? 50 : 2000,
        volatility: 0.0008,
        ...(bursty
          ? {
              script: (m: number) => {
                const k = (m - burstAt) % 60;
                return m >= burstAt && k < 10
                  ? { drift: k % 3 === 2 ? -0.001 : 0.004, volume: 3 }
                  : undefined;
              },
            }
          : {}),
      });
    }
  }
  return specs;
}

/** The simulator's instruments for specs: `minutes` candles each from `startMs`. */
export function scanInstruments(
  specs: readonly ScanSymbolSpec[],
  minutes: number,
  startMs: number,
  seed = 1,
): SimInstrument[] {
  return specs.map((s) => ({ instId: s.instId, candles: scanCandles(s, minutes, startMs, seed), seed }));
}
