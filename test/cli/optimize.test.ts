import { runCli } from '../support/cli.js';
import { BTC_MONTH, MAY_SLICE } from '../backtests/support.js';

const grid = [
  '--grid',
  'fast_period=5:15:5,slow_period=20:40:10',
  '--constraint',
  'fast_period < slow_period',
];
const base = ['optimize', '--strategy', 'sma_cross', '--data', MAY_SLICE, ...grid];

interface Row {
  params: Record<string, unknown>;
  metrics: Record<string, number | null>;
}

describe('rxtrade optimize', () => {
  it('--json: every combination with all the metrics of `backtest`, best first; the best equals a plain backtest; workers 1 = 2', async () => {
    const two = await runCli([...base, '--json', '--workers', '2', '--metric', 'return']);
    expect(two.stderr).toBe('');
    expect(two.code).toBe(0);
    const doc = JSON.parse(two.stdout) as {
      strategy: string;
      metric: string;
      combinations: number;
      results: Row[];
    };
    expect(doc).toMatchObject({ strategy: 'sma_cross', metric: 'return', combinations: 9 });
    const returns = doc.results.map((r) => r.metrics.total_return as number);
    expect(returns).toEqual([...returns].sort((a, b) => b - a));

    const one = await runCli([...base, '--json', '--workers', '1', '--metric', 'return']);
    expect(one.stdout).toBe(two.stdout);

    const best = doc.results[0] as Row;
    const plain = await runCli([
      'backtest',
      '--strategy',
      'sma_cross',
      '--data',
      MAY_SLICE,
      '--params',
      JSON.stringify(best.params),
      '--json',
    ]);
    expect(plain.code).toBe(0);
    const metrics = (JSON.parse(plain.stdout) as { metrics: Record<string, number | null> }).metrics;
    expect(Object.keys(best.metrics).sort()).toEqual(Object.keys(metrics).sort());
    expect(best.metrics).toEqual(metrics);
  });

  it('prints the top rows and the best run’s metrics', async () => {
    const r = await runCli([...base, '--top', '3', '--workers', '1']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^sma_cross on BTC-USDT 1m \(.*\): 9 combinations × 2000 candles in [\d.]+ s \(1 thread\), ranked by sharpe$/,
    );
    expect(lines[2]).toMatch(/^#\s+fast_period\s+slow_period\s+return\s+sharpe/);
    expect(lines.slice(3, 6).every((l) => /^\d\s/.test(l.trim()))).toBe(true);
    expect(lines[6]).toBe('');
    expect(r.stdout).toMatch(
      /^best: \{"timeframe":"1m","fast_period":\d+,"slow_period":\d+,"atr_period":14\}$/m,
    );
    expect(r.stdout).toMatch(/^Sharpe \(annualized\) +-?\d/m);
  });

  it('--walk-forward: per fold the chosen parameters, in- and out-of-sample metrics, and the stitched curve', async () => {
    const r = await runCli([
      'optimize',
      '--strategy',
      'sma_cross',
      '--data',
      BTC_MONTH,
      '--grid',
      'fast_period=5,20,slow_period=60',
      '--walk-forward',
      'train=10d,test=5d',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      folds: {
        params: Record<string, unknown>;
        in_sample: Record<string, number>;
        out_of_sample: Record<string, number>;
        train: { to_ms: number };
        test: { from_ms: number };
      }[];
      out_of_sample: { metrics: Record<string, number>; equity_curve: [number, number][] };
    };
    expect(doc.folds).toHaveLength(3); // 29.8 days: folds starting on days 0, 5 and 10
    for (const f of doc.folds) {
      expect([5, 20]).toContain(f.params.fast_period);
      expect(f.train.to_ms).toBe(f.test.from_ms);
      expect(typeof f.in_sample.sharpe).toBe('number');
      expect(typeof f.out_of_sample.total_return).toBe('number');
    }
    const curve = doc.out_of_sample.equity_curve;
    expect(curve.at(-1)?.[1]).toBe(doc.out_of_sample.metrics.final_equity);
    expect(curve.length).toBe(doc.folds.reduce((s, f) => s + (f.out_of_sample.candles as number), 0));
  });

  it('refuses bad input with exit 1 and a message naming the bad part', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--grid', 'fast_period=5:50:0'],
        /--grid "fast_period=5:50:0": fast_period=5:50:0: the step must be > 0/,
      ],
      [
        ['--grid', 'fast_priod=5,10'],
        /--grid: fast_priod: not a parameter of sma_cross \(its parameters: timeframe, fast_period, slow_period, atr_period\)/,
      ],
      [
        ['--grid', 'fast_period=5,10', '--constraint', 'fast_period < slwo'],
        /--constraint "fast_period < slwo": unknown parameter "slwo"/,
      ],
      [['--grid', 'fast_period=50,60', '--constraint', 'fast_period < 10'], /no combination is left to run/],
      [
        ['--grid', 'fast_period=5', '--workers', '0'],
        /--workers must be a whole number from 1 to 256, got "0"/,
      ],
      [
        ['--grid', 'fast_period=5', '--walk-forward', 'train=1d'],
        /--walk-forward "train=1d": give both train= and test=/,
      ],
      [
        ['--grid', 'fast_period=50'],
        /no combination can run: --grid fast_period=50: .*fast_period must be smaller than slow_period/,
      ],
      [[], /give --grid/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['optimize', '--strategy', 'sma_cross', '--data', MAY_SLICE, ...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr).toMatch(message);
    }
  });
});
