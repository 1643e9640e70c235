import { randomBytes } from 'node:crypto';
import { admin, withDatabase } from './pgAdmin.js';
import { validateBotFile } from '../src/bots/botConfig.js';
import { BotStore, type BotCandleRecord } from '../src/storage/botStore.js';
import { openDatabase } from '../src/storage/database.js';
import { migrate } from '../src/storage/migrate.js';
import { defaultStrategyRegistry } from '../src/strategies/registry.js';
import { stats, type Stats } from './machine.js';

const MIN = 60_000;
const STRATEGIES = ['ema_crossover', 'rsi_reversion', 'macd_trend', 'bollinger_breakout', 'momentum'];

/**
 * `BotStore` on a REAL Postgres (DATABASE_URL's server, else 127.0.0.1:5432, in a scratch database): 100
 * bots each record every 1m candle — a signal with its indicator values, a fill on one candle in ten, one
 * open position, a performance row and a ~2 KB engine snapshot — all 100 at each candle close, as the bot
 * manager will: once as one `recordCandles` batch (one statement, one commit), once as 100 `recordCandle`
 * calls in parallel (100 commits over the default pool of 10 connections). Reports bot-candles committed
 * per second and close → all 100 committed (p50/p99), medians of `runs` runs of `candles` candles each.
 */
export async function benchBotsStore(bots = 100, candles = 60, runs = 3): Promise<string[]> {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `rxtrade_bench_${randomBytes(5).toString('hex')}`;
  await admin(withDatabase(server, 'postgres'), `CREATE DATABASE ${name}`);
  try {
    const db = await openDatabase({ url: withDatabase(server, name) });
    try {
      await migrate(db);
      const store = new BotStore(db);
      const registry = defaultStrategyRegistry();
      const keys: string[] = [];
      for (let b = 0; b < bots; b++) {
        const data = {
          bot_id: `bench-${b}`,
          strategy: STRATEGIES[b % STRATEGIES.length],
          symbol: `SYM${b % 10}-USDT`,
          virtual_balance: 10_000,
        };
        await store.upsertBot(
          validateBotFile(data, { source: `bench-${b}.json`, text: JSON.stringify(data), registry }),
        );
        keys.push(data.bot_id);
      }
      let t = Date.UTC(2025, 0, 1);
      let seq = 0;
      /** Runs `runs` + 1 (the first is warm-up: connections, plans, JIT) of `candles` candle closes. */
      const measure = async (
        write: (items: { botKey: string; step: BotCandleRecord }[]) => Promise<unknown>,
      ): Promise<{ rate: Stats; p50: number; p99: number }> => {
        const rates: number[] = [];
        const p50s: number[] = [];
        const p99s: number[] = [];
        for (let r = 0; r < runs + 1; r++) {
          const latencies: number[] = [];
          const start = process.hrtime.bigint();
          for (let c = 0; c < candles; c++) {
            t += MIN;
            seq++;
            const closeTimeMs = t;
            const items = keys.map((botKey, b) => ({ botKey, step: record(closeTimeMs, b, seq) }));
            const t0 = process.hrtime.bigint();
            await write(items);
            latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          }
          const seconds = Number(process.hrtime.bigint() - start) / 1e9;
          if (r === 0) continue;
          rates.push((candles * bots) / seconds);
          latencies.sort((a, b) => a - b);
          p50s.push(latencies[Math.floor(latencies.length * 0.5)] as number);
          p99s.push(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] as number);
        }
        return { rate: stats(rates), p50: stats(p50s).median, p99: stats(p99s).median };
      };
      const line = (what: string, m: { rate: Stats; p50: number; p99: number }): string =>
        `bots-store ${what.padEnd(44)} median ${m.rate.median.toFixed(0)} bot-candles/s ` +
        `(min ${m.rate.min.toFixed(0)}, max ${m.rate.max.toFixed(0)}, ${m.rate.runs} runs of ${bots} bots × ${candles} candles); ` +
        `close → all ${bots} committed p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms`;
      const batched = await measure((items) => store.recordCandles(items));
      const single = await measure((items) =>
        Promise.all(items.map((i) => store.recordCandle(i.botKey, i.step))),
      );
      return [
        line('recordCandles (one statement per close)', batched),
        line('recordCandle × 100 in parallel (pool of 10)', single),
      ];
    } finally {
      await db.close();
    }
  } finally {
    await admin(withDatabase(server, 'postgres'), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/** A plausible candle record for bot `b`: a fill every tenth candle, one position, a ~2 KB snapshot. */
function record(closeTimeMs: number, b: number, seq: number): BotCandleRecord {
  const price = 30_000 + ((seq * 37 + b * 11) % 500);
  const filled = seq % 10 === b % 10;
  return {
    closeTimeMs,
    signals: [
      {
        closeTimeMs,
        action: filled ? 'buy' : 'hold',
        price,
        confidence: 0.42,
        reason: filled ? 'ema 12 crossed above ema 26' : 'no crossing',
        indicators: { ema_12: price + 1.5, ema_26: price - 2.25, atr_14: 35.125 },
      },
    ],
    fills: filled
      ? [
          {
            seq,
            orderId: seq,
            timeMs: closeTimeMs - MIN,
            side: 'buy',
            price,
            qty: 0.01,
            fee: price * 0.00001,
            balanceAfter: 10_000 - price * 0.01,
            orderType: 'market',
            purpose: 'entry',
            liquidity: 'taker',
            reason: 'ema 12 crossed above ema 26',
          },
        ]
      : [],
    positions: [
      {
        symbol: `SYM${b % 10}-USDT`,
        side: 'long',
        qty: 0.01,
        avgEntryPrice: price,
        entryTimeMs: closeTimeMs - 10 * MIN,
        lastPrice: price,
        stopLoss: price * 0.98,
      },
    ],
    performance: {
      totalValue: 10_000 + (seq % 7),
      cash: 9_700,
      cryptoValue: 300 + (seq % 7),
      totalTrades: seq >> 1,
      winningTrades: seq >> 2,
      totalFees: seq * 0.3,
    },
    engineState: {
      version: 1,
      cash: 9_700,
      rng: [12345, 67890, 13579, 24680],
      nextOrderId: seq + 1,
      fillSeq: seq,
      holdings: [{ symbol: `SYM${b % 10}-USDT`, qty: 0.01, avgEntry: price, lastPrice: price }],
      pending: Array.from({ length: 8 }, (_, i) => ({
        id: seq + i,
        side: 'sell',
        type: i % 2 === 0 ? 'limit' : 'stop',
        qty: 0.001 * (i + 1),
        price: price * (1 + i / 100),
        reason: 'take-profit level waiting for its price',
      })),
      indicators: Array.from({ length: 40 }, (_, i) => price + i / 3),
    },
  };
}
