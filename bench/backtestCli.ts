import { join } from 'node:path';
import { runBacktest } from '../backtests/runBacktest.js';
import { packageRoot } from '../src/cli/packageRoot.js';
import { parseRiskConfig, parseVenueModel } from '../src/domain/trading/config.js';
import { readCandleCsvColumns, candlesOfColumns } from '../src/streams/candleCsv.js';
import { defaultStrategyRegistry } from '../src/strategies/registry.js';
import { describeMachine, stats, time } from './machine.js';
import { runNodeProcess } from './processRun.js';
import { issueCandlesCsv } from './realCandles.js';

/**
 * One `rxtrade backtest --strategy sma_cross --data FILE` as a whole process on ~71 k real 1m candles (what
 * a user waits for), beside its parts measured in this process: reading the CSV, and the backtest itself.
 * Medians of `runs` runs.
 */
export async function benchBacktestCli(runs = 7): Promise<string[]> {
  const root = packageRoot();
  const data = issueCandlesCsv(root);
  const args = [
    join(root, 'bin', 'rxtrade.js'),
    'backtest',
    '--strategy',
    'sma_cross',
    '--data',
    data.path,
    '--json',
  ];
  const whole: number[] = [];
  const wholeCpu: number[] = [];
  const empty: number[] = [];
  const emptyCpu: number[] = [];
  const loads: number[] = [];
  // The whole run and an empty node process in turn, so both see the same machine.
  for (let r = 0; r < runs + 1; r++) {
    const run = runNodeProcess('backtest-cli', args);
    const bare = runNodeProcess('backtest-cli (empty node)', ['-e', '0']);
    if (r === 0) continue; // the first run warms the disk cache
    whole.push(run.seconds);
    empty.push(bare.seconds);
    if (run.cpuSeconds !== undefined) wholeCpu.push(run.cpuSeconds);
    if (bare.cpuSeconds !== undefined) emptyCpu.push(bare.cpuSeconds);
    loads.push(run.load);
  }

  const parse: number[] = [];
  let columns;
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    columns = (await readCandleCsvColumns(data.path, { symbol: 'BTC-USDT' })).columns;
    parse.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  if (columns === undefined) throw new Error('bench backtest-cli: no candles');
  const candles = candlesOfColumns(columns);
  const strategy = defaultStrategyRegistry().create('sma_cross', {});
  const risk = parseRiskConfig({ sizing: { type: 'equity', percentage: 100 } });
  const venue = parseVenueModel({});
  const engine = time(() => runBacktest({ candles }, { strategy, risk, venue, initialCash: 10_000 }), runs);

  const w = stats(whole);
  const e = stats(empty);
  const wc = wholeCpu.length > 0 ? stats(wholeCpu) : undefined;
  const ec = emptyCpu.length > 0 ? stats(emptyCpu) : undefined;
  const l = stats(loads);
  const p = stats(parse);
  const b = stats(engine);
  return [
    `backtest-cli: machine ${describeMachine()}`,
    `backtest-cli: rxtrade backtest --strategy sma_cross on ${candles.length} real 1m candles (${data.label})`,
    `backtest-cli whole process                    median ${(w.median * 1000).toFixed(0)} ms  (min ${(w.min * 1000).toFixed(0)}, max ${(w.max * 1000).toFixed(0)}, ${w.runs} runs; an empty node process: ${(e.median * 1000).toFixed(0)} ms)`,
    `backtest-cli whole process CPU (user+sys)      ${wc === undefined || ec === undefined ? 'n/a (no /usr/bin/time)' : `median ${(wc.median * 1000).toFixed(0)} ms  (min ${(wc.min * 1000).toFixed(0)}; an empty node process: ${(ec.median * 1000).toFixed(0)} ms)`}; load average during the runs: median ${l.median.toFixed(2)} (${l.min.toFixed(2)} … ${l.max.toFixed(2)})`,
    `backtest-cli CSV reading (in process)         median ${(p.median * 1000).toFixed(1)} ms = ${(candles.length / p.median / 1e6).toFixed(2)} M rows/s (first read included)`,
    `backtest-cli backtest (in process, warm)      median ${(b.median * 1000).toFixed(1)} ms = ${(candles.length / b.median / 1e6).toFixed(2)} M candles/s`,
  ];
}
