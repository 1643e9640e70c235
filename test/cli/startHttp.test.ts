import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpawnedCli } from '../support/spawn.js';

/**
 * `rxtrade start` serves the API and the dashboard beside its bots (issue 11, point 4): the built CLI on
 * the embedded simulator and PGlite, with HTTP_PORT=0 (a free port), prints its URL; the URL answers.
 */
let dir: string;
let c: SpawnedCli | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxtrade-start-http-'));
});
afterEach(() => {
  c?.kill();
  rmSync(dir, { recursive: true, force: true });
});

it('prints the URL of the API and dashboard, which answer while it runs', async () => {
  c = new SpawnedCli(['start', '--speed', '120', '--pglite', join(dir, 'pglite'), '--quiet'], {
    LOG_LEVEL: 'warn',
  });
  await c.until('the URL line', () => /dashboard and API at http:\/\/127\.0\.0\.1:\d+/.test(c?.stderr ?? ''));
  const url = /dashboard and API at (http:\/\/127\.0\.0\.1:\d+)/.exec(c.stderr)?.[1] as string;

  const health = (await (await fetch(`${url}/api/health`)).json()) as { database: { kind: string } };
  expect(health.database.kind).toBe('pglite');
  const bots = (await (await fetch(`${url}/api/bots`)).json()) as { bots: { botKey: string }[] };
  expect(bots.bots.map((b) => b.botKey).sort()).toEqual(['btc-ema-fast', 'btc-macd', 'eth-rsi']);
  const page = await fetch(`${url}/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toMatch(/<html/i);

  // The feed's trades reach the API's recent trades (newest first).
  let trades: { tsMs: number; side: string }[] = [];
  for (let i = 0; i < 120 && trades.length === 0; i++) {
    trades = (
      (await (await fetch(`${url}/api/market/BTC-USDT/trades?limit=5`)).json()) as { items: typeof trades }
    ).items;
    if (trades.length === 0) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(trades.length).toBeGreaterThan(0);
  expect(trades.length).toBeLessThanOrEqual(5);
  expect(['buy', 'sell']).toContain(trades[0]?.side);

  // The feed's books5 reach the order book: five levels a side, best first.
  let book = await fetch(`${url}/api/market/BTC-USDT/orderbook`);
  for (let i = 0; i < 120 && book.status === 404; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    book = await fetch(`${url}/api/market/BTC-USDT/orderbook`);
  }
  expect(book.status).toBe(200);
  const top = (await book.json()) as { bids: [number, number][]; asks: [number, number][] };
  expect(top.bids).toHaveLength(5);
  expect(top.asks).toHaveLength(5);
  expect(top.bids[0]![0]).toBeLessThan(top.asks[0]![0]);

  // The simulator's clock runs 120× ahead of ours: the last candle's age is still measured on ours.
  let feed = { lastCandleAgeMs: null as number | null, lastCandleCloseMs: null as number | null };
  for (let i = 0; i < 240 && feed.lastCandleCloseMs === null; i++) {
    feed = ((await (await fetch(`${url}/api/health`)).json()) as { feed: typeof feed }).feed;
    if (feed.lastCandleCloseMs === null) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(feed.lastCandleCloseMs).not.toBeNull();
  expect(feed.lastCandleAgeMs).toBeGreaterThanOrEqual(0);

  const exit = await c.signal('SIGINT');
  expect(exit.code).toBe(0);
}, 120_000);

it('refuses a --port that is not a port, naming the flag', async () => {
  c = new SpawnedCli(['start', '--port', '70000', '--pglite', join(dir, 'pglite')]);
  const exit = await c.exited;
  expect(exit.code).toBe(1);
  expect(c.stderr).toMatch(/--port must be a port number \(0–65535\), got "70000"/);
});
