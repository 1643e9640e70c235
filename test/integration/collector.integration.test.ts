import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Collector } from '../../src/app/collector.js';
import type { Bus } from '../../src/bus/bus.js';
import { createBus } from '../../src/bus/createBus.js';
import { decodeBusMessage, marketChannel, type CandleMessage } from '../../src/bus/messages.js';
import type { Candle } from '../../src/domain/candle.js';
import { timeframeMs, type Timeframe } from '../../src/domain/timeframe.js';
import { ReplayClock } from '../../src/scheduling/replayClock.js';
import { OkxSimulator, type SimAddress } from '../../src/sim/okxSimulator.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import type { Database } from '../../src/storage/database.js';
import { migrate } from '../../src/storage/migrate.js';
import { sampleEthTrades } from '../sim/support.js';
import { freshPglite, freshPostgres, type TestDatabase } from '../storage/support/databases.js';

/**
 * The collector end to end: the OKX simulator (its clock 60× faster than the wall clock, so a minute
 * passes every second) → Collector → market_data + market:{symbol}, on real Postgres + Redis and on
 * PGlite + the in-process bus. What is stored and published is compared with the simulator's ground truth.
 */

const SPEED = 60;
const REDIS_URL = 'redis://127.0.0.1:6379';
const SYMBOL = 'ETH-USDT';

interface Backend {
  readonly db: Database;
  readonly bus: Bus;
  /** Candles seen on market:{SYMBOL} by an outside subscriber (redis-cli for Redis, the bus in-process). */
  readonly heard: CandleMessage[];
  dispose(): Promise<void>;
}

const backends: [string, () => Promise<Backend>][] = [
  [
    'Postgres + Redis',
    async () => {
      const t: TestDatabase = await freshPostgres();
      const prefix = `t-${randomUUID()}:`;
      const bus = createBus({ redisUrl: REDIS_URL, channelPrefix: prefix });
      // What `redis-cli subscribe market:ETH-USDT` would print (with this test's prefix).
      const raw = new Redis(REDIS_URL, { maxRetriesPerRequest: 0 });
      const heard: CandleMessage[] = [];
      raw.on('message', (_channel: string, payload: string) => {
        const m = decodeBusMessage(payload);
        if (m?.type === 'candle') heard.push(m);
      });
      await raw.subscribe(prefix + marketChannel(SYMBOL));
      return {
        db: t.db,
        bus,
        heard,
        dispose: async () => {
          await raw.quit();
          await bus.close();
          await t.dispose();
        },
      };
    },
  ],
  [
    'PGlite + in-process bus',
    async () => {
      const t = await freshPglite();
      const bus = createBus({});
      const heard: CandleMessage[] = [];
      const sub = bus.subscribe(marketChannel(SYMBOL)).subscribe((d) => {
        if (d.message.type === 'candle') heard.push(d.message);
      });
      return {
        db: t.db,
        bus,
        heard,
        dispose: async () => {
          sub.unsubscribe();
          await bus.close();
          await t.dispose();
        },
      };
    },
  ],
];

async function waitFor(what: string, condition: () => boolean, timeoutMs = 40_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Straightforward OHLCV of the ground-truth trades in [close − tf, close). */
function expectedCandle(sim: OkxSimulator, timeframe: Timeframe, closeTimeMs: number) {
  const from = closeTimeMs - timeframeMs(timeframe);
  const trades = sim
    .groundTruth(SYMBOL)
    .filter((t) => t.ts >= from && t.ts < closeTimeMs)
    .sort((a, b) => a.ts - b.ts || Number(a.tradeId) - Number(b.tradeId));
  if (trades.length === 0) return undefined;
  const px = trades.map((t) => Number(t.px));
  return {
    open: px[0],
    high: Math.max(...px),
    low: Math.min(...px),
    close: px[px.length - 1],
    volume: trades.reduce((s, t) => s + Number(t.sz), 0),
  };
}

function expectMatchesGroundTruth(sim: OkxSimulator, candles: readonly Candle[]): void {
  for (const c of candles) {
    const want = expectedCandle(sim, c.timeframe, c.closeTimeMs);
    if (want === undefined) {
      expect(c.volume).toBe(0);
      continue;
    }
    expect({
      tf: c.timeframe,
      t: c.closeTimeMs,
      open: c.open,
      high: c.high,
      low: c.low,
      close: c.close,
    }).toEqual({
      tf: c.timeframe,
      t: c.closeTimeMs,
      open: want.open,
      high: want.high,
      low: want.low,
      close: want.close,
    });
    expect(c.volume).toBeCloseTo(want.volume, 6);
  }
}

jest.setTimeout(90_000);

describe.each(backends)('Collector end to end against the simulator: %s', (_name, makeBackend) => {
  let backend: Backend;
  let sim: OkxSimulator;
  let address: SimAddress;
  let t0: number;
  let spillDir: string;

  beforeEach(async () => {
    backend = await makeBackend();
    await migrate(backend.db);
    t0 = Date.now();
    const wall0 = t0;
    sim = new OkxSimulator({
      instruments: [{ instId: SYMBOL, trades: await sampleEthTrades() }],
      // Recorded spacing (speed 1) on a clock that runs SPEED× faster than the wall clock.
      speed: 1,
      now: () => t0 + (Date.now() - wall0) * SPEED,
    });
    address = await sim.start();
    spillDir = mkdtempSync(join(tmpdir(), 'rxtrade-collector-'));
  });

  afterEach(async () => {
    await sim.stop();
    await backend.dispose();
  });

  function collector(): Collector {
    return new Collector({
      symbols: [SYMBOL],
      wsUrl: address.wsPublicUrl,
      restUrl: address.restUrl,
      db: backend.db,
      bus: backend.bus,
      exchange: 'okx-sim',
      spillDir,
      // The pipeline's clock runs with the simulator's (a quiet minute still closes on time).
      scheduler: new ReplayClock(t0 + (Date.now() - t0) * SPEED, SPEED),
      // Trades reach it some wall-clock ms after they happen (the event loop stalls under load, PGlite runs
      // in this process): SPEED× longer on the simulated clock. The default 2 s is 33 ms of wall time here.
      graceMs: 1000 * SPEED,
    });
  }

  const stored = (timeframe: Timeframe) =>
    new CandleStore(backend.db, 'okx-sim').range(SYMBOL, timeframe, 0, Number.MAX_SAFE_INTEGER);

  it('publishes each closed candle as it closes and stores the same candles, equal to the ground truth', async () => {
    const c = collector();
    const seen: Candle[] = [];
    c.candles$.subscribe((x) => seen.push(x));
    c.start();
    await waitFor('six 1m candles and a 5m candle', () => {
      const ones = backend.heard.filter((m) => m.timeframe === '1m').length;
      return ones >= 6 && backend.heard.some((m) => m.timeframe === '5m');
    });
    await c.flushed();
    const stats = c.stats();
    await c.stop();

    // Published once per interval, in time order per timeframe, and each is what was stored.
    const ones = backend.heard.filter((m) => m.timeframe === '1m');
    const times = ones.map((m) => m.closeTimeMs);
    expect(new Set(times).size).toBe(times.length);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const rows1m = await stored('1m');
    const rows5m = await stored('5m');
    const byTime = new Map(rows1m.map((r) => [r.closeTimeMs, r]));
    for (const m of ones) {
      const row = byTime.get(m.closeTimeMs);
      expect(row).toBeDefined();
      expect([row?.open, row?.high, row?.low, row?.close, row?.tradesCount]).toEqual([
        m.open,
        m.high,
        m.low,
        m.close,
        m.tradesCount,
      ]);
      expect(row?.volume).toBeCloseTo(m.volume, 8);
    }
    expect(rows1m.length).toBeGreaterThanOrEqual(ones.length);
    expect(rows5m.length).toBeGreaterThanOrEqual(1);
    // The first, partial minute (the feed started inside it) is neither stored nor published.
    expect(stats.skippedPartial).toBeGreaterThanOrEqual(1);
    expect(Math.min(...times)).toBeGreaterThan(t0);
    expectMatchesGroundTruth(sim, [...rows1m, ...rows5m]);
    expect(seen.filter((x) => x.timeframe === '1m').length).toBe(rows1m.length);
    expect(stats.candleSink).toMatchObject({ failures: 0, rejected: 0, queued: 0 });
    expect(stats.bus.failed).toBe(0);
  });

  it('a restarted collector stores each candle once and never overwrites a whole candle with a partial one', async () => {
    const first = collector();
    first.start();
    await waitFor(
      'three 1m candles from the first run',
      () => backend.heard.filter((m) => m.timeframe === '1m').length >= 3,
    );
    await first.flushed();
    await first.stop();
    const before = await stored('1m');
    const heardBefore = backend.heard.length;

    const second = collector();
    second.start();
    await waitFor(
      'three more 1m candles after the restart',
      () => backend.heard.slice(heardBefore).filter((m) => m.timeframe === '1m').length >= 3,
    );
    await second.flushed();
    await second.stop();

    const after = await stored('1m');
    // What the first run stored is untouched, and everything stored equals the ground truth.
    const afterByTime = new Map(after.map((r) => [r.closeTimeMs, r]));
    for (const r of before) expect(afterByTime.get(r.closeTimeMs)).toEqual(r);
    expect(new Set(after.map((r) => r.closeTimeMs)).size).toBe(after.length);
    expectMatchesGroundTruth(sim, [...after, ...(await stored('5m'))]);

    // Replaying everything stored changes nothing.
    const replay = await new CandleStore(backend.db, 'okx-sim').upsert(after);
    expect(replay).toEqual({ inserted: 0, updated: 0, unchanged: after.length });
  });
});
