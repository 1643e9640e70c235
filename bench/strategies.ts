import { from } from 'rxjs';
import { packageRoot } from '../src/cli/packageRoot.js';
import type { Candle } from '../src/domain/candle.js';
import type { Indicator } from '../src/domain/indicators/indicator.js';
import type { Signal } from '../src/domain/signal.js';
import { resampleCandles } from '../src/operators/resampleCandles.js';
import { runStrategy } from '../src/operators/strategy.js';
import { readCandleCsv } from '../src/streams/candleCsv.js';
import { defaultStrategyRegistry } from '../src/strategies/registry.js';
import { StrategyContext, type Strategy } from '../src/strategies/strategy.js';
import { btcMonthCsv } from './data.js';
import { parsingCsv, stats, time } from './machine.js';

/** Targets from issue 5, in candles/s. */
const TARGETS: Readonly<Record<string, number>> = { ema_crossover: 5e6, momentum: 1e6 };

/**
 * Strategy throughput (indicators + decisions) in candles/s over at least `minCandles` real 1m candles:
 * the BTC/USDT month (../shared/data, or the project's gzip fixture of it), repeated
 * end to end with the times shifted. Each built-in strategy with its default parameters through
 * `runStrategy` (RxJS, `from(array)`), the two with targets also as a plain loop (no RxJS), and momentum
 * with its 15m trend confirmation (1m + 15m candles in). Medians of `runs` runs.
 */
export async function benchStrategies(minCandles = 500_000, runs = 3): Promise<string[]> {
  const { candles, source } = await realCandles(minCandles);
  const lines: string[] = [`strategies: ${candles.length} real 1m candles (${source})`];
  const registry = defaultStrategyRegistry();
  let sink = 0;
  const report = (name: string, seconds: number[], n: number, target?: number): void => {
    const s = stats(seconds.map((sec) => n / sec));
    const verdict =
      target === undefined ? '' : `  target ≥ ${target / 1e6} M: ${s.median >= target ? 'met' : 'MISSED'}`;
    lines.push(
      `strategy ${name.padEnd(40)} median ${(s.median / 1e6).toFixed(2)} M candles/s  (min ${(s.min / 1e6).toFixed(2)}, max ${(s.max / 1e6).toFixed(2)}, ${s.runs} runs)${verdict}`,
    );
  };
  const count = (s: Signal): void => {
    if (s.action !== 'hold') sink += 1;
  };

  for (const name of registry.names()) {
    const strategy = registry.create(name, {});
    report(
      `${name}, runStrategy (RxJS)`,
      time(() => from(candles).pipe(runStrategy(strategy)).subscribe(count), runs),
      candles.length,
      TARGETS[name],
    );
    if (TARGETS[name] !== undefined) {
      report(
        `${name}, plain loop`,
        time(() => plainLoop(strategy, candles, count), runs),
        candles.length,
      );
    }
  }

  const trend = registry.create('momentum', { trend_confirmation: true, trend_timeframe: '15m' });
  const withTrend: Candle[] = [];
  from(candles)
    .pipe(resampleCandles(['1m', '15m']))
    .subscribe((c) => withTrend.push(c));
  report(
    'momentum + 15m trend, runStrategy (RxJS)',
    time(() => from(withTrend).pipe(runStrategy(trend)).subscribe(count), runs),
    candles.length,
  );
  if (sink === 0) throw new Error('bench: no buy or sell signal at all');
  return lines;
}

/** The same work without RxJS: what the operator costs on top. Main timeframe only. */
function plainLoop(strategy: Strategy, candles: readonly Candle[], out: (s: Signal) => void): void {
  const names = Object.keys(strategy.indicators);
  const indicators = names.map((k) => (strategy.indicators[k] as () => Indicator<unknown>)());
  let current: Record<string, unknown> = {};
  let previous: Record<string, unknown> = {};
  for (const k of names) current[k] = previous[k] = undefined;
  const ctx = new StrategyContext(current, previous);
  for (const c of candles) {
    const swap = previous;
    previous = current;
    current = swap;
    for (let i = 0; i < names.length; i++)
      current[names[i] as string] = (indicators[i] as Indicator<unknown>).update(c);
    ctx.previousCandle = ctx.candle;
    ctx.candle = c;
    ctx.values = current;
    ctx.previous = previous;
    out(strategy.onCandle(ctx));
  }
}

async function realCandles(minCandles: number): Promise<{ candles: Candle[]; source: string }> {
  const root = packageRoot();
  const { path, label } = btcMonthCsv(root);
  const file = await parsingCsv(() => readCandleCsv(path, { symbol: 'BTC-USDT' }));
  const base = file.candles;
  const first = base[0];
  const last = base[base.length - 1];
  if (first === undefined || last === undefined) throw new Error(`bench: no candle in ${path}`);
  const span = last.closeTimeMs - first.closeTimeMs + 60_000;
  const copies = Math.ceil(minCandles / base.length);
  const candles: Candle[] = [];
  for (let k = 0; k < copies; k++) {
    for (const c of base) candles.push({ ...c, closeTimeMs: c.closeTimeMs + k * span });
  }
  return { candles, source: `${label} × ${copies}` };
}
