import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../support/cli.js';
import { APRIL_DAYS, MAY_SLICE } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'rxtrade-backtest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = ['backtest', '--strategy', 'ema_crossover', '--data', MAY_SLICE];

describe('rxtrade backtest', () => {
  it('prints a metrics table, and says when a position was closed at the end', async () => {
    const r = await runCli([...base, '--sizing', 'fixed:0.1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^ema_crossover \{"timeframe":"1m","fast_period":12,"slow_period":26,"atr_period":14\} on BTC-USDT 1m/,
    );
    for (const row of [
      'total return',
      'CAGR',
      'Sharpe (annualized)',
      'Sortino (annualized)',
      'max drawdown',
      'win rate',
      'profit factor',
      'fees paid',
      'buy & hold return',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^${row.replace(/[()&]/g, '\\$&')} +\\S`, 'm'));
    }
    expect(r.stdout).toMatch(/^trades +35$/m);
    expect(r.stdout).toMatch(
      /^warning: the position still open at the end, 0\.1 BTC-USDT .* was closed at the last close/m,
    );
  });

  it('reports gaps in the data, not filled', async () => {
    const r = await runCli(['backtest', '--strategy', 'sma_cross', '--data', APRIL_DAYS]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^warning: gap: 284 missing 1m candles closing 2021-04-25T04:02:00\.000Z … 2021-04-25T08:45:00\.000Z \(not filled\)$/m,
    );
    expect(r.stdout).toMatch(/^candles +2596$/m);
  });

  it('--json prints { metrics, trades, equity_curve } with snake_case keys and null for undefined values', async () => {
    const r = await runCli([
      ...base,
      '--sizing',
      'equity:50',
      '--slippage-bps',
      '2',
      '--balance',
      '5000',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['metrics', 'trades', 'equity_curve']);
    const m = out.metrics as Record<string, unknown>;
    expect(Object.keys(m)).toEqual(
      expect.arrayContaining([
        'total_return',
        'cagr',
        'sharpe',
        'sortino',
        'calmar',
        'max_drawdown',
        'max_drawdown_duration_ms',
        'win_rate',
        'profit_factor',
        'expectancy',
        'sqn',
        'exposure',
        'fees_paid',
        'buy_and_hold_return',
        'final_equity',
        'trades',
      ]),
    );
    expect(m.initial_equity).toBe(5000);
    expect(Object.values(m).every((v) => v === null || typeof v === 'number')).toBe(true);
    const trades = out.trades as Record<string, number>[];
    expect(trades.length).toBe(m.trades);
    for (const t of trades) {
      expect(Object.keys(t)).toEqual([
        'entry_time_ms',
        'exit_time_ms',
        'entry_price',
        'exit_price',
        'qty',
        'pnl',
        'fees',
      ]);
      expect(t.exit_time_ms).toBeGreaterThanOrEqual(t.entry_time_ms as number);
    }
    const curve = out.equity_curve as [number, number][];
    expect(curve.length).toBe(2000);
    expect(curve[0]).toEqual([1621360860000, 5000]);
    expect(curve[curve.length - 1]?.[1]).toBe(m.final_equity);
    // Warnings go to stderr with --json.
    expect(r.stderr).toMatch(/closed at the last close/);
  });

  it('a run with no trade gives null for the per-trade metrics', async () => {
    const r = await runCli([...base, '--params', '{"fast_period": 300, "slow_period": 1999}', '--json']);
    expect(r.code).toBe(0);
    const m = (JSON.parse(r.stdout) as { metrics: Record<string, unknown> }).metrics;
    expect(m.trades).toBe(0);
    expect(m.win_rate).toBeNull();
    expect(m.profit_factor).toBeNull();
  });

  it('takes the strategy, parameters, risk and venue from --config; flags win', async () => {
    const config = join(dir, 'bt.json');
    writeFileSync(
      config,
      JSON.stringify({
        strategy_name: 'EMA_Crossover',
        parameters: { fast_period: 5, slow_period: 20 },
        risk: { sizing: { type: 'fixed', quantity: 0.05 }, stop_loss_percentage: 1 },
        venue: { fee_rate: 0.002 },
        initial_balance: 20_000,
      }),
    );
    const r = await runCli([
      'backtest',
      '--config',
      config,
      '--data',
      MAY_SLICE,
      '--params',
      '{"slow_period": 21}',
      '--json',
    ]);
    expect(r.stderr).not.toMatch(/internal/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      metrics: Record<string, number>;
      trades: { qty: number; fees: number; entry_price: number; exit_price: number }[];
    };
    expect(out.metrics.initial_equity).toBe(20_000);
    const t = out.trades[0];
    expect(t?.qty).toBe(0.05);
    expect(t?.fees).toBeCloseTo(0.05 * 0.002 * ((t?.entry_price ?? 0) + (t?.exit_price ?? 0)), 9);
  });

  it('reads stored candles from the database (--symbol --from --to --pglite)', async () => {
    const pglite = join(dir, 'pglite');
    const imported = await runCli([
      'import',
      '--file',
      MAY_SLICE,
      '--symbol',
      'BTC-USDT',
      '--timeframe',
      '1m',
      '--pglite',
      pglite,
    ]);
    expect(imported.code).toBe(0);
    const fromDb = await runCli([
      'backtest',
      '--strategy',
      'ema_crossover',
      '--symbol',
      'BTC-USDT',
      '--from',
      '2021-05-18T18:00Z',
      '--to',
      '2021-05-18T19:00',
      '--pglite',
      pglite,
      '--json',
    ]);
    expect(fromDb.stderr).not.toMatch(/internal/);
    expect(fromDb.code).toBe(0);
    const fromCsv = await runCli([
      ...base,
      '--from',
      '2021-05-18T18:00:00Z',
      '--to',
      '2021-05-18T19:00:00Z',
      '--json',
    ]);
    expect(fromCsv.code).toBe(0);
    expect(JSON.parse(fromDb.stdout)).toEqual(JSON.parse(fromCsv.stdout));
    const curve = (JSON.parse(fromDb.stdout) as { equity_curve: [number, number][] }).equity_curve;
    // Candles opening 18:00 … 18:59.
    expect(curve.length).toBe(60);
    expect(curve[0]?.[0]).toBe(Date.UTC(2021, 4, 18, 18, 1));

    const empty = await runCli([
      'backtest',
      '--strategy',
      'ema_crossover',
      '--symbol',
      'ETH-USDT',
      '--from',
      '2021-05-18',
      '--to',
      '2021-05-19',
      '--pglite',
      pglite,
    ]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/no ETH-USDT 1m candles in 2021-05-18 … 2021-05-19 in PGlite at /);
  }, 60_000);

  const bad: [string, string[], RegExp][] = [
    [
      'an unknown strategy',
      ['backtest', '--strategy', 'nope', '--data', MAY_SLICE],
      /--strategy: unknown strategy "nope" \(known: EMA_Crossover/,
    ],
    ['no strategy', ['backtest', '--data', MAY_SLICE], /give --strategy NAME/],
    ['--params that is not JSON', [...base, '--params', '{fast: 3}'], /--params is not valid JSON/],
    ['--params that is not an object', [...base, '--params', '[3]'], /--params must be a JSON object/],
    [
      'an unknown parameter',
      [...base, '--params', '{"fast": 3}'],
      /--params: parameters\.fast: unknown key \(accepted: timeframe, fast_period/,
    ],
    [
      'a bad parameter value',
      [...base, '--params', '{"fast_period": "3"}'],
      /--params: parameters\.fast_period: /,
    ],
    [
      'fast not below slow',
      [...base, '--params', '{"fast_period": 30}'],
      /fast_period must be smaller than slow_period/,
    ],
    [
      '--from after --to',
      [...base, '--from', '2021-05-19', '--to', '2021-05-18'],
      /--from 2021-05-19 is not before --to 2021-05-18/,
    ],
    ['a bad --from', [...base, '--from', 'yesterday'], /--from "yesterday" is not an ISO-8601 time/],
    [
      'no data source',
      ['backtest', '--strategy', 'ema_crossover'],
      /no data: give --data FILE\.csv, --trades FILE\.csv, or --symbol S --from ISO --to ISO/,
    ],
    [
      'half a database source',
      ['backtest', '--strategy', 'ema_crossover', '--symbol', 'BTC-USDT', '--from', '2021-05-18'],
      /stored candles need --symbol, --from and --to: missing --to/,
    ],
    [
      'both sources',
      [...base, '--pglite', join(dir, 'x')],
      /give one data source: --data FILE, or --symbol\/--from\/--to with --database-url or --pglite, not both/,
    ],
    [
      'a missing --data file',
      ['backtest', '--strategy', 'ema_crossover', '--data', join(dir, 'missing.csv')],
      /--data .*missing\.csv: no such file/,
    ],
    [
      'an empty range in the file',
      [...base, '--from', '2022-01-01', '--to', '2022-01-02'],
      /no 1m candles in 2022-01-01 … 2022-01-02 in .*btcusdt-1m/,
    ],
    [
      'a database that does not exist',
      [
        'backtest',
        '--strategy',
        'ema_crossover',
        '--symbol',
        'BTC-USDT',
        '--from',
        '2021-05-18',
        '--to',
        '2021-05-19',
        '--pglite',
        join(dir, 'none'),
      ],
      /--pglite .*none: no database there/,
    ],
    [
      'a bad sizing spec',
      [...base, '--sizing', 'half'],
      /--sizing "half": use fixed:QUANTITY \(base units\), equity:PERCENT or risk:PERCENT/,
    ],
    ['a bad sizing number', [...base, '--sizing', 'fixed:-1'], /--sizing "fixed:-1"/],
    [
      'a sizing percentage above 100',
      [...base, '--sizing', 'equity:150'],
      /--sizing "equity:150": the percentage must be at most 100/,
    ],
    [
      'risk sizing without a stop-loss',
      [...base, '--sizing', 'risk:1'],
      /--sizing \/ risk: stop_loss_percentage: sizing type "risk" needs stop_loss_percentage/,
    ],
    ['a bad --fee', [...base, '--fee', '2'], /--fee must be a fraction from 0 to 1/],
    ['a bad --balance', [...base, '--balance', 'lots'], /--balance must be a number, got "lots"/],
    ['a bad --slippage-bps', [...base, '--slippage-bps', '-3'], /--slippage-bps must be ≥ 0/],
    ['a bad --timeframe', [...base, '--timeframe', '2m'], /unknown timeframe "2m"/],
    [
      '--trades with --data',
      [...base, '--trades', MAY_SLICE],
      /give one data source: --trades FILE, --data FILE/,
    ],
    [
      '--trades with a longer --timeframe',
      ['backtest', '--strategy', 'ema_crossover', '--trades', MAY_SLICE, '--timeframe', '5m'],
      /--trades builds 1m candles \(as live\): --timeframe must be 1m, got 5m/,
    ],
    [
      'a missing --trades file',
      ['backtest', '--strategy', 'ema_crossover', '--trades', join(dir, 'nope.csv')],
      /--trades .*nope\.csv: no such file/,
    ],
    [
      'misaligned --timeframe',
      [...base, '--timeframe', '5m'],
      /btcusdt-1m.* line 3: .* is not aligned to 5m/,
    ],
  ];

  it('--trades builds 1m candles from recorded trades, as live, and trades on them like --data on the same candles', async () => {
    const trades = fileURLToPath(
      new URL('../../samples/binance_spot_ETHUSDT_trades_20240808T2354_20240809T0005.csv', import.meta.url),
    );
    const params = ['--params', '{"fast_period":2,"slow_period":3,"atr_period":2}', '--sizing', 'fixed:1'];
    const fromTrades = await runCli([
      'backtest',
      '--strategy',
      'ema_crossover',
      '--trades',
      trades,
      ...params,
      '--json',
    ]);
    expect(fromTrades.code).toBe(0);
    // The same candles through --data: built by `rxtrade candles`, without the first (partial) minute, which
    // the trades path drops as the live collector does.
    const candles = await runCli(['candles', '--trades', trades, '-q']);
    const [header, , ...rows] = candles.stdout.trim().split('\n');
    const csv = join(dir, 'eth-candles.csv');
    writeFileSync(csv, [header, ...rows, ''].join('\n'));
    const fromCsv = await runCli([
      'backtest',
      '--strategy',
      'ema_crossover',
      '--data',
      csv,
      ...params,
      '--json',
    ]);
    expect(fromCsv.code).toBe(0);
    const a = JSON.parse(fromTrades.stdout) as { trades: unknown[]; equity_curve: [number, number][] };
    const b = JSON.parse(fromCsv.stdout) as { trades: unknown[]; equity_curve: [number, number][] };
    expect(a.trades.length).toBeGreaterThan(0);
    expect(a.trades).toEqual(b.trades);
    expect(a.equity_curve).toEqual(b.equity_curve);
  });

  it('exits 1 when the strategy decides on shorter candles than the data', async () => {
    const path = join(dir, 'five.csv');
    writeFileSync(
      path,
      'close_time_ms,open,high,low,close,volume\n1621361100000,1,2,1,2,5\n1621361400000,2,2,1,1,5\n',
    );
    const r = await runCli(['backtest', '--strategy', 'ema_crossover', '--data', path, '--timeframe', '5m']);
    expect(r.stderr).toMatch(/strategy ema_crossover decides on 1m candles: it cannot run on 5m candles/);
    expect(r.code).toBe(1);
  });

  it.each(bad)('exits 1 on %s, naming the flag', async (_what, argv, message) => {
    const r = await runCli(argv);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(1);
  });

  const badConfigs: [string, string, RegExp][] = [
    ['invalid JSON', '{', /--config .*: invalid JSON/],
    [
      'an unknown top-level key',
      '{"strategy_name":"ema_crossover","riks":{}}',
      /--config .*: riks: unknown key \(accepted: strategy_name, parameters, risk, venue, initial_balance\)/,
    ],
    [
      'an unknown parameter',
      '{"strategy_name":"ema_crossover","parameters":{"fats_period":3}}',
      /--config .*: parameters\.fats_period: unknown key/,
    ],
    ['an unknown strategy', '{"strategy_name":"zzz"}', /--config .*: strategy_name: unknown strategy "zzz"/],
    [
      'an unknown risk key',
      '{"strategy_name":"ema_crossover","risk":{"sizing":{"type":"fixed","quantity":1},"stop":2}}',
      /--config .*: risk: stop: unknown key/,
    ],
    [
      'a bad venue value',
      '{"strategy_name":"ema_crossover","venue":{"fee_rate":-1}}',
      /--config .*: venue: fee_rate: /,
    ],
  ];

  it.each(badConfigs)(
    'exits 1 on a --config with %s, naming the file and the key',
    async (_what, text, message) => {
      const path = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(path, text);
      const r = await runCli(['backtest', '--config', path, '--data', MAY_SLICE]);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(1);
    },
  );
});
