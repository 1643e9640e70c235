import { jest } from '@jest/globals';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { candleMessage } from '../../src/bus/messages.js';
import type { Candle } from '../../src/domain/candle.js';
import { dashboardRoot } from '../../src/http/dashboard/serve.js';
import { BotStore } from '../../src/storage/botStore.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import { REAL_LAST_CANDLE_MS, startRealBackend, type RealBackend } from './support/realApi.js';
import { startTcpProxy, type TcpProxy } from './support/tcpProxy.js';

/**
 * The dashboard loses its connection (the network between the browser and the API is cut), a candle
 * closes, the bot trades on it and another bot is started meanwhile: the pushes are lost, and once the
 * network is back the page catches up from the API without a reload. Real API (PGlite), chromium.
 * Screenshot: test/dashboard/artifacts/reconnect-01-caught-up.png.
 */

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const BOT = 'btc-ema-fast';
const NEW_CLOSE_MS = REAL_LAST_CANDLE_MS + 60_000;

let backend: RealBackend;
let proxy: TcpProxy;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

jest.setTimeout(120_000);

const priceRects = (): Promise<number> =>
  page.locator('#price-chart svg g.mark-rect.role-mark > path').count();

beforeAll(async () => {
  if (!existsSync(join(dashboardRoot(), 'index.html'))) {
    throw new Error(`the dashboard is not built (${dashboardRoot()}): run \`npm run build\` first`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  backend = await startRealBackend();
  proxy = await startTcpProxy(backend.url);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(60_000);
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  await page.goto(proxy.url);
  await page.waitForSelector('body[data-ready="true"][data-live="true"][data-chart-bot]');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await backend?.close();
});

describe('dashboard reconnect', () => {
  test('catches up from the API on what happened while it was disconnected', async () => {
    await page.click(`li[data-bot="${BOT}"] .bot-name`);
    await page.waitForSelector(`body[data-chart-bot="${BOT}"]`);
    await page.waitForFunction(
      () => document.querySelectorAll('#price-chart svg g.mark-rect.role-mark > path').length > 0,
    );
    const candlesBefore = await priceRects();
    await page.waitForSelector('li[data-bot="btc-sma"] .light.light-inactive');
    expect(await page.locator('#trades-body tr[data-seq]').count()).toBe(0);

    proxy.cut();
    await page.waitForSelector('body[data-live="false"]');

    // Meanwhile: the collector stores and publishes a candle, the bot trades on it, another bot starts.
    const candle: Candle = {
      symbol: 'BTC-USDT',
      timeframe: '1m',
      closeTimeMs: NEW_CLOSE_MS,
      open: 61_000,
      high: 61_500,
      low: 60_900,
      close: 61_400,
      volume: 2,
      tradesCount: 9,
      closed: true,
      revision: 0,
    };
    await new CandleStore(backend.db, 'okx').upsert([candle]);
    await backend.push(candleMessage(candle));
    const fill = {
      seq: 1,
      orderId: 1,
      timeMs: NEW_CLOSE_MS,
      side: 'buy' as const,
      price: 61_400,
      qty: 0.01,
      fee: 0.61,
      balanceAfter: 9_385.39,
      orderType: 'market' as const,
      purpose: 'entry' as const,
      liquidity: 'taker' as const,
      reason: 'ema cross up',
    };
    const store = new BotStore(backend.db);
    await store.recordCandle(BOT, {
      closeTimeMs: NEW_CLOSE_MS,
      signals: [
        {
          closeTimeMs: NEW_CLOSE_MS,
          action: 'buy',
          price: 61_400,
          confidence: 1,
          reason: 'ema cross up',
          indicators: { ema_fast: 61_380, ema_slow: 61_350 },
        },
      ],
      fills: [fill],
      positions: [
        { symbol: 'BTC-USDT', side: 'long', qty: 0.01, avgEntryPrice: 61_400, entryTimeMs: NEW_CLOSE_MS },
      ],
      performance: {
        totalValue: 9_999.39,
        cash: 9_385.39,
        cryptoValue: 614,
        totalTrades: 1,
        winningTrades: 0,
        totalFees: 0.61,
      },
      engineState: {},
    });
    await backend.push({
      type: 'fill',
      botId: BOT,
      tsMs: NEW_CLOSE_MS,
      symbol: 'BTC-USDT',
      side: fill.side,
      price: fill.price,
      qty: fill.qty,
      fee: fill.fee,
      balanceAfter: fill.balanceAfter,
      orderId: fill.orderId,
      seq: fill.seq,
      reason: fill.reason,
    });
    await store.setStatus('btc-sma', 'active');
    await backend.push({ type: 'status', botId: 'btc-sma', tsMs: Date.now(), status: 'active' });
    // None of it reached the page.
    expect(await priceRects()).toBe(candlesBefore);
    expect(await page.locator('body').getAttribute('data-live')).toBe('false');

    proxy.restore();
    await page.waitForSelector('body[data-live="true"]');
    await page.waitForSelector('#trades-body tr[data-seq="1"]');
    await page.waitForFunction(
      (n) => document.querySelectorAll('#price-chart svg g.mark-rect.role-mark > path').length === n,
      candlesBefore + 1,
    );
    await page.waitForSelector('li[data-bot="btc-sma"] .light.light-active');
    await page.waitForFunction(
      () => document.querySelectorAll('#price-chart svg g.mark-symbol.role-mark > path').length > 0,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'reconnect-01-caught-up.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
