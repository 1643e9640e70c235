import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededPgliteFolder } from '../storage/support/databases.js';
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
    expect(Object.keys(out)).toEqual(['metrics', 'trades', 'equity_curve', 'denied']);
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
    const pglite = await seededPgliteFolder(join(dir, 'pglite'));
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
    // What is there instead, from one grouped query.
    expect(empty.stderr).toBe(
      `rxtrade: no ETH-USDT 1m candles in 2021-05-18 … 2021-05-19 in PGlite at ${pglite}, exchange okx\n` +
        'Stored candles (exchange symbol timeframe):\n' +
        '  okx BTC-USDT 1m: 2000 candles closing 2021-05-18T18:01Z … 2021-05-20T03:20Z\n',
    );
  }, 60_000);

  it('reads stored candles of the only exchange that has the symbol, and asks for --exchange when several do', async () => {
    const pglite = await seededPgliteFolder(join(dir, 'pglite-exchanges'));
    const store = (exchange: string, symbol: string) =>
      runCli([
        ...['import', '--file', MAY_SLICE, '--symbol', symbol, '--timeframe', '1m'],
        ...['--exchange', exchange, '--pglite', pglite],
      ]);
    expect((await store('okx-sim', 'BTC-USDT')).code).toBe(0);
    const period = ['--from', '2021-05-18T18:00Z', '--to', '2021-05-18T19:00Z', '--pglite', pglite];
    const args = ['backtest', '--strategy', 'ema_crossover', '--symbol', 'BTC-USDT', ...period, '--json'];
    const only = await runCli(args);
    expect(only.code).toBe(0);
    expect(only.stderr).toContain(
      'rxtrade backtest: reading BTC-USDT candles of exchange okx-sim (the only one that has them; --exchange chooses)\n',
    );
    expect((JSON.parse(only.stdout) as { equity_curve: unknown[] }).equity_curve).toHaveLength(60);

    expect((await store('okx', 'BTC-USDT')).code).toBe(0);
    const several = await runCli(args);
    expect(several).toEqual({
      code: 1,
      stdout: '',
      stderr: 'rxtrade: BTC-USDT is stored under 2 exchanges (okx, okx-sim): choose one with --exchange\n',
    });
    const chosen = await runCli([...args, '--exchange', 'okx']);
    expect(chosen.code).toBe(0);
    expect(chosen.stderr).not.toMatch(/reading BTC-USDT/);
    expect(JSON.parse(chosen.stdout)).toEqual(JSON.parse(only.stdout));

    const none = await runCli([...args, '--exchange', 'kraken']);
    expect(none.stderr).toBe(
      `rxtrade: no BTC-USDT 1m candles in 2021-05-18T18:00Z … 2021-05-18T19:00Z in PGlite at ${pglite}, exchange kraken\n` +
        'Stored candles (exchange symbol timeframe):\n' +
        '  okx BTC-USDT 1m: 2000 candles closing 2021-05-18T18:01Z … 2021-05-20T03:20Z\n' +
        '  okx-sim BTC-USDT 1m: 2000 candles closing 2021-05-18T18:01Z … 2021-05-20T03:20Z\n',
    );
  }, 90_000);

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
    [
      'a bad --slippage-bps',
      [...base, '--slippage-bps', '-3'],
      /--slippage-bps must be from 0 to less than 10000 \(basis points/,
    ],
    [
      '--exchange with a file',
      [...base, '--exchange', 'okx'],
      /--exchange only applies to stored candles \(not to --data or --trades files\)/,
    ],
    [
      'a bad --exchange',
      [...base, '--exchange', 'Binance'],
      /--exchange "Binance": use lowercase letters, digits and '-'/,
    ],
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
    // The same candles through --data: built by `rxtrade candles`, which leaves out the first (partial)
    // minute as the trades path and the live collector do.
    const candles = await runCli(['candles', '--trades', trades, '-q']);
    const [header, ...rows] = candles.stdout.trim().split('\n');
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

  it('runs a strategy left at its default 1m timeframe on longer candles, and says so', async () => {
    const path = join(dir, 'five.csv');
    writeFileSync(
      path,
      'close_time_ms,open,high,low,close,volume\n1621361100000,1,2,1,2,5\n1621361400000,2,2,1,1,5\n',
    );
    const r = await runCli(['backtest', '--strategy', 'ema_crossover', '--data', path, '--timeframe', '5m']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ema_crossover \{"timeframe":"5m",.* on UNKNOWN 5m/);
    expect(r.stderr).toBe(
      `rxtrade backtest: ${path} holds 5m candles: ema_crossover decides on 5m candles instead of its default 1m (its timeframe parameter sets it)\n`,
    );
  });

  describe('on daily candles', () => {
    const daily = join(dir, 'ETH_USDT-1d.csv');
    beforeAll(() => {
      // 120 days of a seeded wave: enough for the crossings of a 12/26 EMA.
      const rows = Array.from({ length: 120 }, (_, i) => {
        const date = new Date(Date.UTC(2021, 0, 1 + i)).toISOString().slice(0, 10);
        const open = 100 + 20 * Math.sin((i - 1) / 9);
        const close = 100 + 20 * Math.sin(i / 9);
        return `${date},${open.toFixed(2)},${(Math.max(open, close) + 1).toFixed(2)},${(Math.min(open, close) - 1).toFixed(2)},${close.toFixed(2)},1000`;
      });
      writeFileSync(daily, ['date,open,high,low,close,volume', ...rows].join('\n'));
    });

    it('reads the timeframe off the rows and runs the default-1m strategy on it, naming the symbol from the file', async () => {
      const r = await runCli(['backtest', '--strategy', 'ema_crossover', '--data', daily]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^ema_crossover \{"timeframe":"1d",.*\} on ETH-USDT 1d /);
      expect(r.stdout).toMatch(/^candles +120$/m);
      expect(r.stderr).toMatch(
        /^rxtrade backtest: .*ETH_USDT-1d\.csv holds 1d candles \(read off the spacing of the rows\): ema_crossover decides on 1d candles instead of its default 1m/,
      );
    });

    it('refuses an explicit timeframe parameter shorter than the data', async () => {
      const r = await runCli([
        ...['backtest', '--strategy', 'ema_crossover', '--data', daily],
        ...['--params', '{"timeframe": "4h"}'],
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `rxtrade: ema_crossover's timeframe parameter is 4h, but ${daily} holds 1d candles (read off the spacing of the rows): ` +
          'a strategy cannot decide more often than its data; set timeframe to 1d or longer\n',
      );
    });

    it('refuses --timeframe 1m for rows spaced a day apart', async () => {
      const r = await runCli([
        'backtest',
        '--strategy',
        'ema_crossover',
        '--data',
        daily,
        '--timeframe',
        '1m',
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^rxtrade: .*ETH_USDT-1d\.csv: the rows look like 1d candles, not 1m: consecutive rows are always a whole number of 1d apart \(line 2 → line 3: .*\); use --timeframe 1d\n$/,
      );
    });
  });

  it('explains denied signals by reason on stderr and in --json', async () => {
    const args = ['backtest', '--strategy', 'rsi_reversion', '--data', APRIL_DAYS, '--sizing', 'fixed:0.01'];
    const text = await runCli(args);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^2596 candles, 55 signals, 16 orders, 39 denied, 16 fills$/m);
    const line =
      'rxtrade backtest: 39 signals denied: 22 position_open (a buy while a position was open or an entry pending), ' +
      '17 no_position (a sell with no position to sell)\n';
    expect(text.stderr).toContain(line);
    const json = await runCli([...args, '--json']);
    expect((JSON.parse(json.stdout) as { denied: unknown }).denied).toEqual({
      position_open: 22,
      no_position: 17,
    });
    expect(json.stderr).toContain(line);
  });

  it('--trades picks one symbol of a file holding several with --symbol, and drops repeated trades', async () => {
    const path = join(dir, 'two-symbols.csv');
    const lines = ['symbol,trade_id,price,qty,ts'];
    const t0 = Date.UTC(2024, 7, 9);
    for (let i = 0; i < 600; i++) {
      const t = t0 + i * 5_000;
      lines.push(`BTC-USDT,${i + 1},${(100 + 5 * Math.sin(i / 20)).toFixed(2)},1,${t}`);
      lines.push(`ETH-USDT,${i + 1},${(10 + Math.sin(i / 15)).toFixed(2)},2,${t + 1}`);
    }
    lines.push(`ETH-USDT,7,99,99,${t0 + 3_000_000}`); // repeats trade 7 with other values
    writeFileSync(path, `${lines.join('\n')}\n`);
    const args = [
      'backtest',
      '--strategy',
      'ema_crossover',
      '--trades',
      path,
      '--params',
      '{"fast_period":2,"slow_period":3,"atr_period":2}',
    ];
    const none = await runCli(args);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(
      /--trades .*two-symbols\.csv holds trades of 2 symbols \(BTC-USDT, ETH-USDT\): a backtest runs on one; choose it with --symbol\n$/,
    );
    const other = await runCli([...args, '--symbol', 'SOL-USDT']);
    expect(other.stderr).toMatch(
      /--symbol SOL-USDT: .*two-symbols\.csv holds no SOL-USDT trades \(it holds BTC-USDT, ETH-USDT\)/,
    );
    const eth = await runCli([...args, '--symbol', 'ETH-USDT', '--json']);
    expect(eth.code).toBe(0);
    expect(eth.stderr).toContain(
      'rxtrade backtest: dropped 1 duplicate trade (same symbol and trade id as an earlier row; first: line 1202 repeats trade 7 of ETH-USDT from line 15); ' +
        'it differs from the row repeated (time, price, size or side): the earlier row was kept\n',
    );
    // 600 trades 5 s apart: 50 minutes, the partial first one dropped, the forming last one not closed.
    const out = JSON.parse(eth.stdout) as { metrics: { candles: number }; trades: { entry_price: number }[] };
    expect(out.metrics.candles).toBe(48);
    expect(out.trades.every((t) => t.entry_price < 20)).toBe(true); // ETH prices, not BTC's
  });

  it('exits 1 on a --slippage-bps of the whole price or more, naming the flag and the range', async () => {
    const r = await runCli([...base, '--slippage-bps', '20000']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'rxtrade: --slippage-bps must be from 0 to less than 10000 (basis points: 100 = 1 %, 10000 = the whole price), got 20000\n',
    });
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
    [
      'an unknown key in a take_profit entry',
      '{"strategy_name":"ema_crossover","risk":{"sizing":{"type":"equity","percentage":50},"take_profit":[{"percentage":2,"position_percentage":50},{"percentage":4,"position_pct":50}]}}',
      /--config .*: risk: .*take_profit\.1\.position_pct: unknown key \(accepted: percentage, position_percentage\)\n$/,
    ],
    [
      'an unknown key in the sizing of its type',
      '{"strategy_name":"ema_crossover","risk":{"sizing":{"type":"fixed","quantity":1,"percentage":5}}}',
      /--config .*: risk: sizing\.percentage: unknown key \(accepted: type, quantity\)\n$/,
    ],
    [
      'an unknown key in the trailing stop',
      '{"strategy_name":"ema_crossover","risk":{"sizing":{"type":"fixed","quantity":1},"trailing_stop":{"activation_percentage":1,"offset":1}}}',
      /--config .*: risk: .*trailing_stop\.offset: unknown key \(accepted: activation_percentage, offset_percentage\)\n$/,
    ],
    [
      'an unknown key in the slippage',
      '{"strategy_name":"ema_crossover","venue":{"slippage":{"type":"fixed","bsp":2}}}',
      /--config .*: venue: .*slippage\.bsp: unknown key \(accepted: type, bps\)\n$/,
    ],
    [
      'a slippage of the whole price',
      '{"strategy_name":"ema_crossover","venue":{"slippage":{"type":"fixed","bps":10000}}}',
      /--config .*: venue: slippage\.bps: Too big: expected number to be <10000/,
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
