import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Collector } from '../../src/app/collector.js';
import { startHttpInstance, type HttpInstance } from '../../src/app/httpInstance.js';
import { InProcessBus } from '../../src/bus/inProcessBus.js';
import type { Trade } from '../../src/domain/trade.js';
import { ReplayClock } from '../../src/scheduling/replayClock.js';
import { OkxSimulator, type SimAddress } from '../../src/sim/okxSimulator.js';
import { migrate } from '../../src/storage/migrate.js';
import { waitFor } from '../bus/busTesting.js';
import { freshPglite, type TestDatabase } from '../storage/support/databases.js';
import { call } from './support/apiServer.js';
import { StoreBotControl } from './support/storeBotControl.js';

/**
 * `rxtrade start`'s HTTP half over a live feed, end to end: the OKX simulator → the Collector (trades and
 * books5 over the WebSocket) → startHttpInstance → the routes. The simulator's clock runs SPEED× faster
 * than the wall clock and an hour ahead of it, as the demo's does.
 */

const SYMBOL = 'BTC-USDT';
const SPEED = 60;
const AHEAD_MS = 3_600_000;
const TRADES = 40;
/** Recorded spacing: 40 trades over ~3.9 simulated minutes (~4 s of wall time at 60×). */
const SPACING_MS = 6_000;

type Level = [string, string, string, string];
interface BookPush {
  arg: { channel: string; instId: string };
  data: { asks: Level[]; bids: Level[]; ts: string }[];
}

function trades(): Trade[] {
  const t0 = Date.UTC(2025, 0, 1);
  return Array.from({ length: TRADES }, (_, i) => ({
    symbol: SYMBOL,
    tradeId: String(i + 1),
    tsMs: t0 + i * SPACING_MS,
    price: Number((100 + i * 0.1).toFixed(1)),
    size: 0.5,
    side: i % 3 === 0 ? 'sell' : 'buy',
  }));
}

let test: TestDatabase;
let sim: OkxSimulator;
let address: SimAddress;
let collector: Collector;
let http: HttpInstance;
let spillDir: string;
let configDir: string;
const bus = new InProcessBus();
/** Every books5 push a plain OKX client of the simulator receives. */
const rawBooks: BookPush[] = [];
let raw: WebSocket;

beforeAll(async () => {
  test = await freshPglite();
  await migrate(test.db);
  const wall0 = Date.now();
  const sim0 = wall0 + AHEAD_MS;
  const now = () => sim0 + (Date.now() - wall0) * SPEED;
  sim = new OkxSimulator({ instruments: [{ instId: SYMBOL, trades: trades() }], loop: false, now });
  address = await sim.start();
  raw = new WebSocket(address.wsPublicUrl);
  raw.on('message', (data) => {
    const text = data.toString();
    if (text.includes('"books5"') && !text.includes('"event"')) rawBooks.push(JSON.parse(text) as BookPush);
  });
  await new Promise((resolve) => raw.once('open', resolve));
  raw.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'books5', instId: SYMBOL }] }));
  spillDir = mkdtempSync(join(tmpdir(), 'rxtrade-livefeed-'));
  configDir = mkdtempSync(join(tmpdir(), 'rxtrade-livefeed-config-'));
  collector = new Collector({
    symbols: [SYMBOL],
    wsUrl: address.wsPublicUrl,
    restUrl: address.restUrl,
    db: test.db,
    bus,
    exchange: 'okx-sim',
    timeframes: ['1m'],
    orderBooks: true,
    resume: false,
    spillDir,
    deadLetterDir: spillDir,
    scheduler: new ReplayClock(now(), SPEED),
    graceMs: 500,
  });
  http = await startHttpInstance({
    bots: new StoreBotControl(test.db, configDir, bus),
    db: test.db,
    bus,
    collector,
    host: '127.0.0.1',
    port: 0,
  });
  collector.start();
}, 60_000);

afterAll(async () => {
  raw?.terminate();
  await http?.close();
  await collector?.stop();
  await sim?.stop();
  await bus.close();
  await test?.dispose();
  rmSync(spillDir, { recursive: true, force: true });
  rmSync(configDir, { recursive: true, force: true });
});

const levels = (rows: readonly Level[]) => rows.map((l) => [Number(l[0]), Number(l[1])]);

describe('the API over the live feed (simulator → collector → startHttpInstance)', () => {
  it('answers /api/market/:symbol/orderbook with the latest books5 levels', async () => {
    // The replay ends at 103.9: the last book is a tick around it, and nothing changes it after.
    const lastPx = 100 + (TRADES - 1) * 0.1;
    let book = await call(http.url, 'GET', `/api/market/${SYMBOL}/orderbook`);
    for (
      const deadline = Date.now() + 60_000;
      book.body.bids?.[0]?.[0] !== Number((lastPx - 0.1).toFixed(1));
    ) {
      if (Date.now() > deadline) throw new Error(`the last book never came: ${JSON.stringify(book.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      book = await call(http.url, 'GET', `/api/market/${SYMBOL}/orderbook`);
    }
    expect(book.status).toBe(200);
    await waitFor('the same book at the plain client', () =>
      rawBooks.some((p) => Number(p.data[0]?.bids[0]?.[0]) === book.body.bids[0][0]),
    );
    const latest = rawBooks[rawBooks.length - 1]!.data[0]!;
    expect(book.body).toEqual({
      symbol: SYMBOL,
      tsMs: Number(latest.ts),
      bids: levels(latest.bids),
      asks: levels(latest.asks),
    });
    expect(book.body.bids).toHaveLength(5);
    expect(book.body.asks).toHaveLength(5);
    expect(book.body.bids.map((l: number[]) => l[0])).toEqual([103.8, 103.7, 103.6, 103.5, 103.4]);
    expect(book.body.asks.map((l: number[]) => l[0])).toEqual([104, 104.1, 104.2, 104.3, 104.4]);
    // Earlier books existed and were replaced, not kept beside the latest.
    expect(new Set(rawBooks.map((p) => p.data[0]?.bids[0]?.[0])).size).toBeGreaterThan(1);

    const tape = await call(http.url, 'GET', `/api/market/${SYMBOL}/trades?limit=3`);
    expect(tape.body.items.map((t: { price: number }) => t.price)).toEqual([103.9, 103.8, 103.7]);
  }, 90_000);

  it('reports the last candle age on the wall clock although the feed clock runs an hour ahead', async () => {
    let health = await call(http.url, 'GET', '/api/health');
    for (const deadline = Date.now() + 60_000; health.body.feed.lastCandleCloseMs === null;) {
      if (Date.now() > deadline)
        throw new Error(`no candle reached /api/health: ${JSON.stringify(health.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      health = await call(http.url, 'GET', '/api/health');
    }
    expect(health.body.feed.connected).toBe(true);
    // Its close time is on the simulator's clock, well ahead of ours; its age is not negative for that.
    expect(health.body.feed.lastCandleCloseMs).toBeGreaterThan(Date.now() + AHEAD_MS / 2);
    expect(health.body.feed.lastCandleAgeMs).toBeGreaterThanOrEqual(0);
    expect(health.body.feed.lastCandleAgeMs).toBeLessThan(60_000);
  }, 90_000);
});
