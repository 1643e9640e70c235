import { from } from 'rxjs';
import { BollingerBands as TiBollinger, RSI as TiRsi } from 'technicalindicators';
import type { Candle } from '../src/domain/candle.js';
import { BollingerBands, Rsi, STANDARD_INDICATORS, type Indicator } from '../src/domain/indicators/index.js';
import { withIndicators } from '../src/operators/withIndicators.js';
import { stats, time } from './machine.js';

/**
 * Indicator throughput in candles/s over `count` synthetic 1m candles (a seeded random walk at BTC-like
 * prices): the standard set (what `rxtrade indicators` computes: 12 indicators, 17 values a candle) as a
 * plain loop and through `withIndicators`, each indicator alone, and technicalindicators' Bollinger Bands
 * and RSI for comparison (the numbers quoted in bollinger.ts and rsi.ts). Medians of `runs` runs.
 */
export function benchIndicators(count = 500_000, runs = 3): string[] {
  const candles = synthetic(count);
  const lines: string[] = [];
  const report = (name: string, seconds: number[], n = candles.length): void => {
    const s = stats(seconds.map((sec) => n / sec));
    lines.push(
      `indicators ${name.padEnd(40)} median ${(s.median / 1e6).toFixed(2)} M candles/s  (min ${(s.min / 1e6).toFixed(2)}, max ${(s.max / 1e6).toFixed(2)}, ${s.runs} runs of ${n} candles)`,
    );
  };

  const factories = Object.values(STANDARD_INDICATORS) as (() => Indicator<unknown>)[];
  let sink = 0;
  report(
    'standard set, plain loop',
    time(() => {
      const set = factories.map((f) => f());
      for (const c of candles) for (const ind of set) if (ind.update(c) !== undefined) sink += 1;
    }, runs),
  );
  report(
    'standard set, withIndicators (RxJS)',
    time(() => {
      from(candles)
        .pipe(withIndicators(STANDARD_INDICATORS))
        .subscribe((o) => {
          if (o.indicators.adx !== undefined) sink += 1;
        });
    }, runs),
  );
  for (const f of factories) {
    const key = f().key;
    report(
      `${key} alone`,
      time(() => {
        const ind = f();
        for (const c of candles) if (ind.update(c) !== undefined) sink += 1;
      }, runs),
    );
  }

  // technicalindicators, for the comparison in the comments (fewer candles: it is much slower)
  const some = candles.slice(0, Math.min(100_000, candles.length));
  report(
    'bb_20_2 (ours, same candles as below)',
    time(() => {
      const bb = new BollingerBands(20, 2);
      for (const c of some) if (bb.update(c) !== undefined) sink += 1;
    }, runs),
    some.length,
  );
  report(
    'technicalindicators BollingerBands',
    time(() => {
      const bb = new TiBollinger({ period: 20, stdDev: 2, values: [] });
      for (const c of some) if (bb.nextValue(c.close) !== undefined) sink += 1;
    }, runs),
    some.length,
  );
  report(
    'rsi_14 (ours, same candles as below)',
    time(() => {
      const rsi = new Rsi(14);
      for (const c of some) if (rsi.update(c) !== undefined) sink += 1;
    }, runs),
    some.length,
  );
  report(
    'technicalindicators RSI',
    time(() => {
      const rsi = new TiRsi({ period: 14, values: [] });
      for (const c of some) if (rsi.nextValue(c.close) !== undefined) sink += 1;
    }, runs),
    some.length,
  );
  if (sink === 0) throw new Error('bench: no indicator value');
  return lines;
}

function synthetic(count: number): Candle[] {
  let seed = 12345;
  const rnd = (): number => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const out: Candle[] = [];
  let price = 50_000;
  const start = 1_600_000_000_000 - (1_600_000_000_000 % 60_000);
  for (let i = 0; i < count; i++) {
    const open = price;
    const close = Math.max(1, Math.round((open + (rnd() - 0.5) * 60) * 100) / 100);
    const high = Math.round((Math.max(open, close) + rnd() * 20) * 100) / 100;
    const low = Math.round((Math.min(open, close) - rnd() * 20) * 100) / 100;
    out.push({
      symbol: 'BTC-USDT',
      timeframe: '1m',
      closeTimeMs: start + (i + 1) * 60_000,
      open,
      high,
      low,
      close,
      volume: Math.round(rnd() ** 3 * 200 * 1e6) / 1e6,
      tradesCount: 0,
      closed: true,
      revision: 0,
    });
    price = close;
  }
  return out;
}
