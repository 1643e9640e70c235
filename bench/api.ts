import { randomBytes } from 'node:crypto';
import http from 'node:http';
import autocannon from 'autocannon';
import { admin, withDatabase } from './pgAdmin.js';
import { validateBotFile } from '../src/bots/botConfig.js';
import type { BotControl, BotView } from '../src/bots/botControl.js';
import { InProcessBus } from '../src/bus/inProcessBus.js';
import type { Candle } from '../src/domain/candle.js';
import { UsageError } from '../src/domain/errors.js';
import { createHttpApp } from '../src/http/app.js';
import { WorkerBacktestService } from '../src/http/backtests/backtestService.js';
import { dashboardMiddleware } from '../src/http/dashboard/serve.js';
import { startHttpServer } from '../src/http/server.js';
import { BotStore } from '../src/storage/botStore.js';
import { CandleStore } from '../src/storage/candleStore.js';
import { openDatabase, type Database } from '../src/storage/database.js';
import { migrate } from '../src/storage/migrate.js';
import { defaultStrategyRegistry } from '../src/strategies/registry.js';
import { benchCandleToBrowser } from './apiBrowser.js';
import { stats } from './machine.js';

const MIN = 60_000;
/** Unanswered requests at most in a fixed-rate run (beyond: not sent, counted as failed). */
const MAX_IN_FLIGHT = 32;
const T0 = Date.UTC(2025, 0, 1);

/** A read-only BotControl over BotStore (the bench only lists): the API's own cost, not a manager's. */
function storeBots(db: Database): BotControl {
  const store = new BotStore(db);
  const refuse = (): never => {
    throw new UsageError('read-only bench BotControl');
  };
  const list = async (): Promise<BotView[]> =>
    (await store.listBots()).map((s) => ({
      ...s,
      config: null,
      winningTrades: 0,
      totalFees: 0,
      maxDrawdown: 0,
      restartsLastHour: 0,
    }));
  return {
    list,
    get: async (id) => (await list()).find((b) => b.botKey === id),
    create: refuse,
    updateConfig: refuse,
    start: refuse,
    stop: refuse,
    pause: refuse,
    resume: refuse,
    signals: (id, p) => store.signals(id, p),
    trades: (id, p) => store.trades(id, p),
    performance: (id, p) => store.performance(id, p),
    positions: (id) => store.positions(id),
  };
}

/** One GET on `agent`, its body read whole; resolves with the status. */
function get(url: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/**
 * Requests at a fixed rate (not back to back) for `seconds`, on keep-alive connections of an agent of
 * its own (no socket left idle by an earlier phase): per-request latencies in ms. A server that falls
 * behind is not buried: a request due while MAX_IN_FLIGHT are unanswered is not sent and counts as failed.
 */
async function fixedRate(
  url: string,
  rate: number,
  seconds: number,
): Promise<{ latencies: number[]; rps: number; errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  let errors = 0;
  let inFlight = 0;
  const latencies: number[] = [];
  const total = rate * seconds;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  try {
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      if (inFlight >= MAX_IN_FLIGHT) {
        errors++;
        continue;
      }
      const t = performance.now();
      inFlight++;
      pending.push(
        get(url, agent).then(
          (status) => {
            inFlight--;
            if (status === 200) latencies.push(performance.now() - t);
            else errors++;
          },
          () => {
            inFlight--;
            errors++;
          },
        ),
      );
    }
    await Promise.all(pending);
  } finally {
    agent.destroy();
  }
  return { latencies, rps: total / ((performance.now() - start) / 1000), errors };
}

/** Waits for the answers still queued in the server from a run that fell behind (one request behind them). */
async function settle(url: string): Promise<void> {
  const agent = new http.Agent({ keepAlive: false });
  try {
    await get(url, agent);
  } finally {
    agent.destroy();
  }
}

/** The service time: the median latency of `n` requests sent one after another (no queueing). */
async function oneAtATime(url: string, n: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await get(url, agent);
      latencies.push(performance.now() - t);
    }
  } finally {
    agent.destroy();
  }
  return stats(latencies).median;
}

const pct = (sorted: number[], p: number): number =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number);

/**
 * The HTTP API on a real server (127.0.0.1, random port) over Postgres (a scratch database on DATABASE_URL's
 * server, else 127.0.0.1:5432) and PGlite (in memory), with 10 bots stored and 5000 1m candles: GET
 * /api/bots and a 1000-candle history query at a fixed 200 req/s (p50/p95/p99, medians of `runs` runs of
 * `seconds` s), then autocannon with 10 connections for the most req/s. No bot pipelines run here (the
 * API's cost alone; the bot manager serves /api/bots from memory). On Postgres also candle close → browser
 * (apiBrowser.ts). About 50 s in all.
 */
export async function benchApi(runs = 2, seconds = 3, rate = 200): Promise<string[]> {
  const lines: string[] = [];
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `rxtrade_bench_${randomBytes(5).toString('hex')}`;
  await admin(withDatabase(server, 'postgres'), `CREATE DATABASE ${name}`);
  try {
    for (const kind of ['postgres', 'pglite'] as const) {
      const db = await openDatabase(
        kind === 'postgres' ? { url: withDatabase(server, name) } : { pglitePath: 'memory://' },
      );
      try {
        lines.push(...(await benchOn(kind, db, runs, seconds, rate)));
      } finally {
        await db.close();
      }
    }
  } finally {
    await admin(withDatabase(server, 'postgres'), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
  return lines;
}

async function benchOn(
  kind: string,
  db: Database,
  runs: number,
  seconds: number,
  rate: number,
): Promise<string[]> {
  await migrate(db);
  const registry = defaultStrategyRegistry();
  const store = new BotStore(db);
  for (let b = 0; b < 10; b++) {
    const data = {
      bot_id: `bench-${b}`,
      strategy: 'ema_crossover',
      symbol: 'BTC-USDT',
      virtual_balance: 10_000,
    };
    await store.upsertBot(
      validateBotFile(data, { source: `bench-${b}.json`, text: JSON.stringify(data), registry }),
    );
    await store.setStatus(data.bot_id, 'active');
  }
  const candles: Candle[] = Array.from({ length: 5000 }, (_, i) => {
    const p = 40_000 + 500 * Math.sin(i / 30);
    return {
      symbol: 'BTC-USDT',
      timeframe: '1m',
      closeTimeMs: T0 + (i + 1) * MIN,
      open: p,
      high: p + 10,
      low: p - 10,
      close: p + 1,
      volume: 1.5,
      tradesCount: 7,
      closed: true,
      revision: 0,
    };
  });
  await new CandleStore(db, 'okx').upsert(candles);
  const bus = new InProcessBus();
  const backtests = new WorkerBacktestService(db);
  const app = createHttpApp({
    bots: storeBots(db),
    db,
    bus,
    backtests,
    middleware: [dashboardMiddleware()],
  });
  const handle = await startHttpServer(app, { host: '127.0.0.1', port: 0 });
  const lines: string[] = [];
  try {
    const targets = [
      ['/api/bots (10 bots)', '/api/bots'],
      ['history 1000 candles', '/api/market/BTC-USDT/history?timeframe=1m&limit=1000'],
    ] as const;
    for (const [what, path] of targets) {
      const url = handle.url + path;
      await fixedRate(url, rate, 1); // warm-up: connections, plans, JIT
      const alone = await oneAtATime(url, 20);
      const p50: number[] = [];
      const p95: number[] = [];
      const p99: number[] = [];
      const rps: number[] = [];
      let errors = 0;
      for (let r = 0; r < runs; r++) {
        await settle(url);
        const m = await fixedRate(url, rate, seconds);
        errors += m.errors;
        const sorted = m.latencies.sort((a, b) => a - b);
        p50.push(pct(sorted, 0.5));
        p95.push(pct(sorted, 0.95));
        p99.push(pct(sorted, 0.99));
        rps.push(m.rps);
      }
      await settle(url);
      const max = await autocannon({ url, connections: 10, duration: 2 });
      const line =
        `api ${kind.padEnd(8)} ${what.padEnd(22)} one at a time: p50 ${alone.toFixed(1)} ms; ` +
        `at ${stats(rps).median.toFixed(0)} req/s: p50 ${stats(p50).median.toFixed(1)} ms, ` +
        `p95 ${stats(p95).median.toFixed(1)} ms, p99 ${stats(p99).median.toFixed(1)} ms (medians of ${runs} runs × ${seconds} s, ${errors} failed or not sent with ${MAX_IN_FLIGHT} unanswered); ` +
        `most: ${max.requests.average.toFixed(0)} req/s with 10 connections over 2 s (p50 ${max.latency.p50} ms, p99 ${max.latency.p99} ms, ${max.non2xx} non-2xx, ${max.errors} errors)`;
      process.stderr.write(`${line}\n`);
      lines.push(line);
    }
    if (kind === 'postgres') {
      const line = await benchCandleToBrowser(handle.url, bus, T0 + candles.length * MIN);
      process.stderr.write(`${line}\n`);
      lines.push(line);
    }
  } finally {
    await handle.close();
    await backtests.close();
    await bus.close();
  }
  return lines;
}
