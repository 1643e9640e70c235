import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runBacktest } from '../backtests/runBacktest.js';
import { packageRoot } from '../src/cli/packageRoot.js';
import { parseRiskConfig, parseVenueModel } from '../src/domain/trading/config.js';
import { candlesOfColumns } from '../src/streams/candleColumns.js';
import { loadCsvCandles } from '../backtests/sources.js';
import { defaultStrategyRegistry } from '../src/strategies/registry.js';
import { describeMachine, parsingCsv, stats, time } from './machine.js';
import { runNodeProcess, type ProcessRun } from './processRun.js';
import { issueCandlesCsv } from './realCandles.js';

/**
 * One `rxtrade backtest --strategy sma_cross --data FILE` as a whole process on ~71 k real 1m candles (what
 * a user waits for), beside its parts measured in this process: reading the CSV, and the backtest itself.
 * Medians of `runs` runs. With RXTRADE_BENCH_BASELINE set to another rxtrade folder (built: an older
 * commit's worktree), its `bin/rxtrade.js` runs the same command in turn with this one, side by side.
 */
export async function benchBacktestCli(runs = 7): Promise<string[]> {
  const root = packageRoot();
  const data = issueCandlesCsv(root);
  const argsOf = (folder: string): string[] => [
    join(folder, 'bin', 'rxtrade.js'),
    'backtest',
    '--strategy',
    'sma_cross',
    '--data',
    data.path,
    '--json',
  ];
  const baselineRoot = process.env.RXTRADE_BENCH_BASELINE;
  if (baselineRoot !== undefined && !existsSync(join(baselineRoot, 'bin', 'rxtrade.js'))) {
    throw new Error(
      `RXTRADE_BENCH_BASELINE=${baselineRoot}: no bin/rxtrade.js there (give the folder of another built rxtrade)`,
    );
  }
  const whole = new Samples();
  const uncached = new Samples();
  const empty = new Samples();
  const baseline = new Samples();
  const noCache = { ...process.env, RXTRADE_CODE_CACHE: '0', RXTRADE_CSV_CACHE: '0' };
  // The whole run (with its code cache, bin/load-bundle.cjs, and without: what the first run after a
  // build costs), the baseline's and an empty node process in turn, so all see the same machine.
  for (let r = 0; r < runs + 1; r++) {
    const run = runNodeProcess('backtest-cli', argsOf(root));
    const cold = runNodeProcess('backtest-cli (no caches)', argsOf(root), noCache);
    const before =
      baselineRoot !== undefined
        ? runNodeProcess('backtest-cli (baseline)', argsOf(baselineRoot))
        : undefined;
    const bare = runNodeProcess('backtest-cli (empty node)', ['-e', '0']);
    if (r === 0) continue; // the first run warms the disk cache and leaves the code cache
    whole.add(run);
    uncached.add(cold);
    empty.add(bare);
    if (before !== undefined) baseline.add(before);
  }

  // The first read is what a `rxtrade backtest` process pays (the parser not yet optimized); later reads
  // show the parser's own speed. Read as the command reads a file (loadCsvCandles: the rows' spacing
  // checked against the timeframe too).
  const parse: number[] = [];
  let columns;
  for (let r = 0; r < runs + 1; r++) {
    const t0 = process.hrtime.bigint();
    columns = (await parsingCsv(() => loadCsvCandles(data.path, { symbol: 'BTC-USDT' }))).columns;
    parse.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const firstParse = parse.shift() as number;
  if (columns === undefined) throw new Error('bench backtest-cli: no candles');
  const candles = candlesOfColumns(columns);
  const strategy = defaultStrategyRegistry().create('sma_cross', {});
  const risk = parseRiskConfig({ sizing: { type: 'equity', percentage: 100 } });
  const venue = parseVenueModel({});
  const options = { strategy, risk, venue, initialCash: 10_000 };
  // The command's way (on the file's columns: the strategy asked on its candidates only), and the way of
  // a strategy that decides on every candle.
  const cols = columns;
  // Ten runs first: V8 compiles a run's code over its first few runs (the first is ~10× slower).
  const engine = time(() => runBacktest({ columns: cols }, options), runs, 10);
  const everyCandle = time(() => runBacktest({ candles }, options), runs, 10);

  const w = stats(whole.wall);
  const u = stats(uncached.wall);
  const e = stats(empty.wall);
  const wc = whole.cpu.length > 0 ? stats(whole.cpu) : undefined;
  const ec = empty.cpu.length > 0 ? stats(empty.cpu) : undefined;
  const l = stats(whole.loads);
  const p = stats(parse);
  const b = stats(engine);
  const ev = stats(everyCandle);
  const lines = [
    `backtest-cli: machine ${describeMachine()}`,
    `backtest-cli: rxtrade backtest --strategy sma_cross on ${candles.length} real 1m candles (${data.label})`,
    `backtest-cli whole process                    median ${(w.median * 1000).toFixed(0)} ms  (min ${(w.min * 1000).toFixed(0)}, max ${(w.max * 1000).toFixed(0)}, ${w.runs} runs; an empty node process: ${(e.median * 1000).toFixed(0)} ms)`,
    `backtest-cli whole process, no caches        median ${(u.median * 1000).toFixed(0)} ms  (min ${(u.min * 1000).toFixed(0)}, max ${(u.max * 1000).toFixed(0)}; RXTRADE_CODE_CACHE=0 RXTRADE_CSV_CACHE=0: a first run, in turn with the runs above)`,
    `backtest-cli whole process CPU (user+sys)      ${wc === undefined || ec === undefined ? 'n/a (no /usr/bin/time)' : `median ${(wc.median * 1000).toFixed(0)} ms  (min ${(wc.min * 1000).toFixed(0)}; an empty node process: ${(ec.median * 1000).toFixed(0)} ms)`}; load average during the runs: median ${l.median.toFixed(2)} (${l.min.toFixed(2)} … ${l.max.toFixed(2)})`,
  ];
  if (baselineRoot !== undefined) {
    const bw = stats(baseline.wall);
    const bc = baseline.cpu.length > 0 ? stats(baseline.cpu) : undefined;
    lines.push(
      `backtest-cli baseline (${baselineRoot})  median ${(bw.median * 1000).toFixed(0)} ms wall${bc === undefined || wc === undefined ? '' : `, ${(bc.median * 1000).toFixed(0)} ms CPU`}: this one is ${(bw.median / w.median).toFixed(2)}× faster (wall)${bc === undefined || wc === undefined ? '' : `, ${(bc.median / wc.median).toFixed(2)}× (CPU)`}`,
    );
  }
  lines.push(
    `backtest-cli CSV reading (in process)         first read ${(firstParse * 1000).toFixed(1)} ms = ${(candles.length / firstParse / 1e6).toFixed(2)} M rows/s; then median ${(p.median * 1000).toFixed(1)} ms = ${(candles.length / p.median / 1e6).toFixed(2)} M rows/s`,
    `backtest-cli backtest (in process, warm)      median ${(b.median * 1000).toFixed(1)} ms = ${(candles.length / b.median / 1e6).toFixed(2)} M candles/s on the columns (candidates only); every candle: median ${(ev.median * 1000).toFixed(1)} ms = ${(candles.length / ev.median / 1e6).toFixed(2)} M candles/s`,
  );
  return lines;
}

/** Wall and CPU seconds and load averages of a series of process runs. */
class Samples {
  readonly wall: number[] = [];
  readonly cpu: number[] = [];
  readonly loads: number[] = [];

  add(run: ProcessRun): void {
    this.wall.push(run.seconds);
    if (run.cpuSeconds !== undefined) this.cpu.push(run.cpuSeconds);
    this.loads.push(run.load);
  }
}
