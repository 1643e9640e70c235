import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { admin, withDatabase } from './pgAdmin.js';
import { Subject } from 'rxjs';
import { BotManager } from '../src/bots/botManager.js';
import { CandleFeed } from '../src/bots/candleFeed.js';
import { InProcessBus } from '../src/bus/inProcessBus.js';
import type { Candle } from '../src/domain/candle.js';
import { CandleStore } from '../src/storage/candleStore.js';
import { openDatabase } from '../src/storage/database.js';
import { migrate } from '../src/storage/migrate.js';
import { VirtualClock } from '../src/scheduling/virtualClock.js';
import { stats } from './machine.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 7, 8);
const STRATEGIES: readonly (readonly [string, Record<string, unknown>])[] = [
  ['ema_crossover', { fast_period: 3, slow_period: 8 }],
  ['rsi_reversion', { period: 5, oversold: 35, overbought: 65 }],
  ['macd_trend', { fast_period: 3, slow_period: 6, signal_period: 3 }],
  ['bollinger_breakout', {}],
  ['momentum', {}],
];

/**
 * Bots at scale, on a REAL Postgres (DATABASE_URL's server, else 127.0.0.1:5432, in a scratch database):
 * `bots` bots (five strategies, 1m) on 10 symbols sharing one in-process feed, on a virtual clock. Per
 * candle close (one 1m candle of each symbol), the time until all bots' records are committed (p50/p99),
 * the process CPU time it took, and the largest RSS seen. Candles before the measured ones are stored
 * first, so every bot warms up on history as it would live. Medians of `runs` runs.
 */
export async function benchBots(bots = 100, candles = 60, runs = 3): Promise<string[]> {
  const p50s: number[] = [];
  const p99s: number[] = [];
  const cpus: number[] = [];
  let rss = 0;
  for (let r = 0; r < runs; r++) {
    const one = await runOnce(bots, candles);
    p50s.push(one.p50);
    p99s.push(one.p99);
    cpus.push(one.cpuMs);
    rss = Math.max(rss, one.rssMb);
  }
  return [
    `bots: ${bots} bots on 10 symbols, one shared feed, Postgres: candle close → all rows committed ` +
      `p50 ${stats(p50s).median.toFixed(1)} ms, p99 ${stats(p99s).median.toFixed(1)} ms; ` +
      `CPU ${stats(cpus).median.toFixed(1)} ms per candle close (${((stats(cpus).median / 60_000) * 100).toFixed(2)} % of a core at 1m candles); ` +
      `max RSS ${rss.toFixed(0)} MB (medians of ${runs} runs of ${candles} closes)`,
  ];
}

async function runOnce(
  bots: number,
  closes: number,
): Promise<{ p50: number; p99: number; cpuMs: number; rssMb: number }> {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `rxtrade_bench_${randomBytes(5).toString('hex')}`;
  await admin(withDatabase(server, 'postgres'), `CREATE DATABASE ${name}`);
  const dir = await mkdtemp(join(tmpdir(), 'rxtrade-bench-bots-'));
  try {
    const db = await openDatabase({ url: withDatabase(server, name) });
    try {
      await migrate(db);
      await mkdir(join(dir, 'bots'));
      for (let b = 0; b < bots; b++) {
        const [strategy, parameters] = STRATEGIES[b % STRATEGIES.length]!;
        await writeFile(
          join(dir, 'bots', `bench-${b}.json`),
          JSON.stringify({
            bot_id: `bench-${b}`,
            strategy,
            symbol: `SYM${b % 10}-USDT`,
            virtual_balance: 10_000,
            parameters,
            risk: { sizing: { type: 'equity', percentage: 50 }, stop_loss_percentage: 1 },
          }),
        );
      }
      const history = 120;
      const series = Array.from({ length: 10 }, (_, s) =>
        waves(`SYM${s}-USDT`, history + closes, 100 + s * 50, s * 7),
      );
      const store = new CandleStore(db, 'bench');
      for (const list of series) await store.upsert(list.slice(0, history));
      const clock = new VirtualClock(T0 + history * MIN);
      const market = new Subject<Candle>();
      const feed = new CandleFeed(() => market);
      const bus = new InProcessBus();
      const manager = new BotManager({
        db,
        bus,
        feed,
        exchange: 'bench',
        configDir: dir,
        scheduler: clock,
        watch: { fsWatch: false, rescanMs: 0 },
      });
      await manager.open();
      const latencies: number[] = [];
      let cpuUs = 0;
      let rss = 0;
      for (let i = history; i < history + closes; i++) {
        clock.advanceTo(T0 + (i + 1) * MIN);
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        for (const list of series) market.next(list[i]!);
        await manager.settled();
        latencies.push(performance.now() - t0);
        const cpu = process.cpuUsage(cpu0);
        cpuUs += cpu.user + cpu.system;
        rss = Math.max(rss, process.memoryUsage().rss);
      }
      await manager.close();
      feed.close();
      await bus.close();
      const l = [...latencies].sort((a, b) => a - b);
      return {
        p50: l[Math.floor(l.length * 0.5)]!,
        p99: l[Math.min(l.length - 1, Math.floor(l.length * 0.99))]!,
        cpuMs: cpuUs / 1000 / closes,
        rssMb: rss / 2 ** 20,
      };
    } finally {
      await db.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await admin(withDatabase(server, 'postgres'), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

function waves(symbol: string, n: number, base: number, phase: number): Candle[] {
  const out: Candle[] = [];
  let prev = base;
  for (let i = 0; i < n; i++) {
    const x = i + phase;
    const close = Math.round(base * (1 + 0.02 * Math.sin(x / 9) + 0.008 * Math.sin(x / 2.3)) * 100) / 100;
    out.push({
      symbol,
      timeframe: '1m',
      closeTimeMs: T0 + (i + 1) * MIN,
      open: prev,
      high: Math.max(prev, close) * 1.001,
      low: Math.min(prev, close) * 0.999,
      close,
      volume: 10,
      tradesCount: 5,
      closed: true,
      revision: 0,
    });
    prev = close;
  }
  return out;
}
