import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../../src/app/collector.js';
import { createBus } from '../../src/bus/createBus.js';
import type { Candle } from '../../src/domain/candle.js';
import { ReplayClock } from '../../src/scheduling/replayClock.js';
import { OkxSimulator, type SimAddress } from '../../src/sim/okxSimulator.js';
import { migrate } from '../../src/storage/migrate.js';
import { sampleEthTrades } from '../sim/support.js';
import { freshPglite, type TestDatabase } from '../storage/support/databases.js';
import { activeTimers, hangingServer, type HangingServer } from '../support/servers.js';

/**
 * Issue 9, point 7: a bad OKX REST URL does not delay the WebSocket stream. With REST accepting
 * connections and never answering (the worst case: no error to react to), the collector still turns the
 * WebSocket's trades into candles, and stop() ends the REST requests still waiting instead of leaving
 * their timers to keep the process alive. The simulator's clock runs 60× faster than the wall clock.
 */
const SPEED = 60;

let hanging: HangingServer;
let sim: OkxSimulator;
let address: SimAddress;
let t0: number;
let db: TestDatabase;
let spillDir: string;

beforeEach(async () => {
  hanging = await hangingServer();
  db = await freshPglite();
  await migrate(db.db);
  t0 = Date.now();
  const wall0 = t0;
  sim = new OkxSimulator({
    instruments: [{ instId: 'ETH-USDT', trades: await sampleEthTrades() }],
    speed: 1,
    now: () => t0 + (Date.now() - wall0) * SPEED,
  });
  address = await sim.start();
  spillDir = mkdtempSync(join(tmpdir(), 'rxtrade-restdown-'));
});
afterEach(async () => {
  await sim.stop();
  await db.dispose();
  await hanging.close();
  rmSync(spillDir, { recursive: true, force: true });
});

it('turns WebSocket trades into candles while REST hangs, and stop() leaves nothing waiting', async () => {
  const timers = activeTimers();
  const bus = createBus({});
  const collector = new Collector({
    symbols: ['ETH-USDT'],
    wsUrl: address.wsPublicUrl,
    restUrl: hanging.url,
    db: db.db,
    bus,
    exchange: 'okx-sim',
    spillDir,
    scheduler: new ReplayClock(t0 + (Date.now() - t0) * SPEED, SPEED),
    timeframes: ['1m'],
  });
  const candles: Candle[] = [];
  collector.candles$.subscribe((c) => candles.push(c));
  collector.start();
  const deadline = Date.now() + 60_000;
  while (candles.filter((c) => c.volume > 0).length < 2 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(candles.filter((c) => c.timeframe === '1m' && c.volume > 0).length).toBeGreaterThanOrEqual(2);
  expect(hanging.connections).toBeGreaterThan(0); // the instruments check is still waiting on REST
  await collector.stop(1_000);
  await bus.close();
  await sim.stop();
  const closed = Date.now() + 2_000;
  while (hanging.waiting > 0 && Date.now() < closed) await new Promise((r) => setTimeout(r, 20));
  expect(hanging.waiting).toBe(0); // the REST requests still waiting were abandoned
  // undici's own 1 s timer lasts while it keeps a connection (4 s keep-alive); the collector's are longer.
  const settle = Date.now() + 10_000;
  while (activeTimers() > timers && Date.now() < settle) await new Promise((r) => setTimeout(r, 20));
  expect(activeTimers()).toBeLessThanOrEqual(timers);
}, 90_000);
