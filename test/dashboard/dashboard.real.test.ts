import { jest } from '@jest/globals';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { dashboardRoot } from '../../src/http/dashboard/serve.js';
import type { DashboardBackend } from './support/backend.js';
import { REAL_LAST_CANDLE_MS, startRealBackend } from './support/realApi.js';

/**
 * The dashboard in chromium against the real API (createHttpApp on PGlite, the worker backtest service,
 * the Socket.IO bridge over an in-process bus): the contract checked end to end. Screenshots under
 * test/dashboard/artifacts/real-*.png.
 */

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

let backend: DashboardBackend;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

jest.setTimeout(90_000);

const rects = (chart: string) => page.locator(`${chart} svg g.mark-rect.role-mark > path`).count();

beforeAll(async () => {
  if (!existsSync(join(dashboardRoot(), 'index.html'))) {
    throw new Error(`the dashboard is not built (${dashboardRoot()}): run \`npm run build\` first`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  backend = await startRealBackend();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(60_000);
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 400 \(Bad Request\)/.test(message.text())) {
      consoleErrors.push(`${message.text()} ${message.location().url}`);
    }
  });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
  await page.goto(backend.url);
  await page.waitForSelector('body[data-ready="true"][data-live="true"][data-chart-bot]');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await backend?.close();
});

describe('dashboard in chromium against the real API', () => {
  test('loads, starts and stops a bot, shows a pushed candle', async () => {
    expect(await page.locator('#bot-list li.bot').count()).toBe(2);
    await page.waitForFunction(() => document.querySelectorAll('#book-body tr').length === 10);
    await page.waitForFunction(
      () => document.querySelectorAll('#price-chart svg g.mark-rect.role-mark > path').length > 0,
    );
    const before = await rects('#price-chart');
    await page.click('li[data-bot="btc-sma"] button[data-action="start"]');
    await page.waitForSelector('li[data-bot="btc-sma"] .light.light-active');
    await page.click('li[data-bot="btc-sma"] button[data-action="stop"]');
    await page.waitForSelector('li[data-bot="btc-sma"] .light.light-inactive');

    await page.click('li[data-bot="btc-ema-fast"] .bot-name');
    await page.waitForSelector('body[data-chart-bot="btc-ema-fast"]');
    const shown = await rects('#price-chart');
    await backend.push({
      type: 'candle',
      symbol: 'BTC-USDT',
      timeframe: '1m',
      closeTimeMs: REAL_LAST_CANDLE_MS + 60_000,
      open: 61_000,
      high: 61_500,
      low: 60_900,
      close: 61_400,
      volume: 2,
      tradesCount: 9,
      revision: 0,
    });
    await page.waitForFunction(
      (n) => document.querySelectorAll('#price-chart svg g.mark-rect.role-mark > path').length === n,
      shown + 1,
    );
    expect(before).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'real-01-live.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  test('the page fits the window: no column grows past it (charts sized to their container)', async () => {
    // Each live candle and performance update redraws the charts, each measuring its container: a grid column that grows with
    // its content would widen at every candle (in the demo, by ~200 px a candle).
    const drawn = await rects('#price-chart');
    for (let i = 2; i <= 6; i++) {
      await backend.push({
        type: 'candle',
        symbol: 'BTC-USDT',
        timeframe: '1m',
        closeTimeMs: REAL_LAST_CANDLE_MS + i * 60_000,
        open: 61_000,
        high: 61_500,
        low: 60_900,
        close: 61_400,
        volume: 2,
        tradesCount: 9,
        revision: 0,
      });
      await page.waitForFunction(
        (n) => document.querySelectorAll('#price-chart svg g.mark-rect.role-mark > path').length === n,
        drawn + i - 1,
      );
      for (const botId of ['btc-sma', 'btc-ema-fast']) {
        await backend.push({
          type: 'performance',
          botId,
          tsMs: REAL_LAST_CANDLE_MS + i * 60_000,
          totalValue: 10_000 + i,
          cash: 10_000,
          cryptoValue: i,
          totalTrades: 0,
          winningTrades: 0,
          totalFees: 0,
        });
      }
      await page.waitForTimeout(300);
    }
    const { scroll, client } = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
    }));
    expect(scroll).toBeLessThanOrEqual(client);
    // Every chart drawn fits its box (the price chart over its oscillator is wider than its container).
    const overflowing = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('.chart')]
        .filter((el) => el.querySelector('svg') !== null)
        .map((el) => ({
          id: el.id,
          box: el.clientWidth,
          svg: el.querySelector('svg')!.getBoundingClientRect().width,
        }))
        .filter((c) => c.svg > c.box + 0.5),
    );
    expect(overflowing).toEqual([]);
  });

  test('a config mistake is shown with the field the API names', async () => {
    await page.click('li[data-bot="btc-ema-fast"] button.act-edit');
    const text = page.locator('#config-text');
    const original = await text.inputValue();
    await text.fill(original.replace('"timeframe": "1m"', '"timeframe": "7m"'));
    await page.click('#config-save');
    await page.waitForSelector('#config-error:not([hidden])');
    await expect(page.locator('#config-error').textContent()).resolves.toContain('timeframe');
    await page.screenshot({ path: join(ARTIFACTS, 'real-02-config-error.png'), fullPage: true });
    await page.click('#config-cancel');
  });

  test('a backtest from the form runs in the worker and shows its results', async () => {
    await page.selectOption('#bt-strategy', 'ema_crossover');
    await page.fill('#bt-params input[name="fast_period"]', '5');
    await page.fill('#bt-params input[name="slow_period"]', '13');
    await page.click('#bt-run');
    await page.waitForSelector('#bt-result:not([hidden]) #bt-metrics tr[data-metric="total_return"]');
    await page.waitForSelector('#bt-equity svg g.mark-line.role-mark > path');
    await expect(page.locator('#bt-status').textContent()).resolves.toMatch(/^done/);
    await page.screenshot({ path: join(ARTIFACTS, 'real-03-backtest.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });
});
