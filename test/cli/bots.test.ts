import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { validateBotFile, type BotConfig } from '../../src/bots/botConfig.js';
import { BotStore, type BotCandleRecord } from '../../src/storage/botStore.js';
import { migrate } from '../../src/storage/migrate.js';
import { defaultStrategyRegistry } from '../../src/strategies/registry.js';
import { runCli } from '../support/cli.js';
import { freshPostgres, type TestDatabase } from '../storage/support/databases.js';

const BIN = fileURLToPath(new URL('../../bin/rxtrade.js', import.meta.url));
const T0 = Date.UTC(2024, 7, 8, 23, 55);
const MIN = 60_000;

function config(data: Record<string, unknown>): BotConfig {
  const text = JSON.stringify(data);
  return validateBotFile(data, {
    source: `config/bots/${String(data.bot_id)}.json`,
    text,
    registry: defaultStrategyRegistry(),
  });
}

function candle(i: number, over: Partial<BotCandleRecord> = {}): BotCandleRecord {
  return {
    closeTimeMs: T0 + i * MIN,
    signals: [],
    fills: [],
    positions: [],
    performance: {
      totalValue: 10_000,
      cash: 10_000,
      cryptoValue: 0,
      totalTrades: 0,
      winningTrades: 0,
      totalFees: 0,
    },
    engineState: { i },
    ...over,
  };
}

describe('rxtrade bots list', () => {
  let pg: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    pg = await freshPostgres();
    dir = mkdtempSync(join(tmpdir(), 'rxtrade-bots-cli-'));
  }, 60_000);
  afterAll(async () => {
    await pg?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('with no bot, says so and how to start them (and --json prints [])', async () => {
    const text = await runCli(['bots', 'list', '--database-url', pg.url as string]);
    expect(text).toEqual({
      code: 0,
      stdout: `no bots in Postgres at 127.0.0.1:5432/${pg.name} yet: bots come from config/bots/*.json or *.yaml (or --config-dir DIR, RXTRADE_CONFIG_DIR) and run with \`rxtrade start\`\n`,
      stderr: '',
    });
    const json = await runCli(['bots', 'list', '--database-url', pg.url as string, '--json']);
    expect(json).toEqual({ code: 0, stdout: '[]\n', stderr: '' });
  });

  it('does not create an embedded database that does not exist', async () => {
    const path = join(dir, 'pglite');
    const r = await runCli(['bots', 'list', '--pglite', path]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `no bots in PGlite at ${path} yet: bots come from config/bots/*.json or *.yaml (or --config-dir DIR, RXTRADE_CONFIG_DIR) and run with \`rxtrade start\`\n`,
    );
    expect(existsSync(path)).toBe(false);
  });

  it('prints every bot: status, symbol, strategy, cash, value, P&L, trades, last candle; --json too', async () => {
    await migrate(pg.db);
    const store = new BotStore(pg.db);
    const base = { symbol: 'BTC-USDT', virtual_balance: 10_000 };
    await store.upsertBot(config({ ...base, bot_id: 'btc-ema-fast', strategy: 'ema_crossover' }));
    await store.upsertBot(
      config({ ...base, bot_id: 'eth-rsi', strategy: 'rsi_reversion', symbol: 'ETH-USDT' }),
    );
    await store.upsertBot(
      config({ ...base, bot_id: 'btc-macd', strategy: 'macd_trend', virtual_balance: 500 }),
    );
    await store.setStatus('btc-ema-fast', 'active');
    await store.setStatus('btc-macd', 'error', 'config/bots/btc-macd.json: risk.sizing: unknown key');
    const buy = {
      seq: 1,
      orderId: 1,
      timeMs: T0,
      side: 'buy' as const,
      price: 61_837.63,
      qty: 0.08,
      fee: 4.95,
      balanceAfter: 5_048.04,
    };
    await store.recordCandle(
      'btc-ema-fast',
      candle(1, {
        fills: [buy, { ...buy, seq: 2, side: 'sell', timeMs: T0 + MIN, balanceAfter: 9_990.5 }],
        performance: {
          totalValue: 10_123.456,
          cash: 9_990.5,
          cryptoValue: 132.956,
          totalTrades: 1,
          winningTrades: 1,
          totalFees: 9.9,
        },
      }),
    );
    await store.recordCandle(
      'eth-rsi',
      candle(2, {
        performance: {
          totalValue: 9_876.5,
          cash: 9_876.5,
          cryptoValue: 0,
          totalTrades: 0,
          winningTrades: 0,
          totalFees: 3,
        },
      }),
    );

    const r = await runCli(['bots', 'list', '--database-url', pg.url as string]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        'BOT           STATUS    SYMBOL    STRATEGY             CASH     VALUE      P&L  P&L %  TRADES  LAST CANDLE (UTC)',
        'btc-ema-fast  active    BTC-USDT  ema_crossover 1m  9990.50  10123.46  +123.46  +1.23       2  2024-08-08 23:56',
        'btc-macd      error     BTC-USDT  macd_trend 1m      500.00    500.00     0.00   0.00       0  -',
        'eth-rsi       inactive  ETH-USDT  rsi_reversion 1m  9876.50   9876.50  -123.50  -1.23       0  2024-08-08 23:57',
        '',
        'btc-macd (error): config/bots/btc-macd.json: risk.sizing: unknown key',
        '',
      ].join('\n'),
    );

    const json = await runCli(['bots', 'list', '--database-url', pg.url as string, '--json']);
    const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(rows.map((b) => b.bot_id)).toEqual(['btc-ema-fast', 'btc-macd', 'eth-rsi']);
    expect(rows[0]).toEqual({
      bot_id: 'btc-ema-fast',
      status: 'active',
      status_message: null,
      symbol: 'BTC-USDT',
      strategy: 'ema_crossover',
      timeframe: '1m',
      virtual_balance: 10_000,
      cash: 9_990.5,
      total_value: 10_123.456,
      pnl: expect.closeTo(123.456, 9) as unknown,
      pnl_pct: expect.closeTo(1.23456, 9) as unknown,
      trades: 2,
      last_candle_ms: T0 + MIN,
      last_heartbeat_ms: expect.any(Number) as unknown,
    });
    expect(rows[1]).toMatchObject({
      status: 'error',
      status_message: 'config/bots/btc-macd.json: risk.sizing: unknown key',
      last_candle_ms: null,
    });
  }, 60_000);

  it('works from the built bin, reading DATABASE_URL', async () => {
    const run = promisify(execFile);
    const out = await run(process.execPath, [BIN, 'bots', 'list', '--json'], {
      env: { ...process.env, DATABASE_URL: pg.url as string },
    });
    expect((JSON.parse(out.stdout) as unknown[]).length).toBe(3);
  }, 60_000);

  it('explains an unreachable Postgres in one line (exit 1)', async () => {
    const r = await runCli(['bots', 'list', '--database-url', 'postgres://postgres@127.0.0.1:1/rxtrade']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'rxtrade: cannot use Postgres at 127.0.0.1:1/rxtrade: nothing answers (ECONNREFUSED) (URL from --database-url)\n',
    });
  });
});
