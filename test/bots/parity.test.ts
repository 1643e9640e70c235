import { jest } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { EMA_BOT, EXCHANGE, harness, MACD_BOT, RSI_BOT, T0, waveCandles, type Harness } from './support.js';

jest.setTimeout(300_000);

/**
 * Parity: what a bot did live over a stored period equals `rxtrade backtest --symbol … --from … --to …` on
 * the same stored candles with the same settings, round trip for round trip.
 */
describe('a bot equals rxtrade backtest on the candles it traded (Postgres)', () => {
  let h: Harness;
  afterAll(async () => h?.dispose());

  it.each([EMA_BOT, RSI_BOT, MACD_BOT])('$bot_id', async (bot) => {
    if (h === undefined) {
      h = await harness('postgres', { 'ema.json': EMA_BOT, 'rsi.json': RSI_BOT, 'macd5.json': MACD_BOT });
      const btc = waveCandles('BTC-USDT', T0, 200, 60_000);
      const eth = waveCandles('ETH-USDT', T0, 200, 3_000, 17);
      for (let i = 0; i < btc.length; i++) await h.push([btc[i]!, eth[i]!], true);
    }
    const candles = await h.candleStore.range(bot.symbol, '1m', 0, Number.MAX_SAFE_INTEGER);
    const config = join(h.dir, `${bot.bot_id}-backtest.json`);
    await writeFile(
      config,
      JSON.stringify({
        strategy_name: bot.strategy,
        parameters: { ...bot.parameters, timeframe: bot.timeframe },
        risk: bot.risk,
        venue: bot.venue,
        initial_balance: bot.virtual_balance,
      }),
    );
    const r = await runCli([
      'backtest',
      '--config',
      config,
      '--symbol',
      bot.symbol,
      '--from',
      new Date(T0).toISOString(),
      '--to',
      new Date(candles[candles.length - 1]!.closeTimeMs).toISOString(),
      '--database-url',
      h.url!,
      '--exchange',
      EXCHANGE,
      '--json',
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      trades: { exit_time_ms: number; exit_price: number; qty: number; pnl: number; fees: number }[];
    };
    // The bot's round trips: its fills that closed something (a pnl). The backtest also closes what is still
    // open after the last candle; the bot keeps it.
    const exits = (await h.store.trades(bot.bot_id, { limit: 10_000 })).filter((f) => f.pnl !== undefined);
    expect(exits.length).toBeGreaterThanOrEqual(2);
    const trips = report.trades.slice(0, exits.length);
    expect(report.trades.length - exits.length).toBeLessThanOrEqual(1);
    expect(exits.map((f) => [f.timeMs, f.price, f.qty])).toEqual(
      trips.map((t) => [t.exit_time_ms, t.exit_price, t.qty]),
    );
    exits.forEach((f, i) => expect(f.pnl).toBeCloseTo(trips[i]!.pnl, 8));
  });
});
