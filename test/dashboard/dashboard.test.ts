import { jest } from '@jest/globals';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { dashboardRoot } from '../../src/http/dashboard/serve.js';
import { startBackend, type DashboardBackend } from './support/backend.js';
import { LAST_CANDLE_MS } from './support/fixtureApi.js';

/**
 * The dashboard in a real browser (Debian's chromium through playwright-core) against a running API:
 * controls, live pushes, config validation and a backtest from the form. Screenshots go to
 * test/dashboard/artifacts/ (gitignored). Needs `npm run build` (the page is the built bundle).
 */

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

let backend: DashboardBackend;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

// A busy CI machine (jest workers next to chromium) is slow; every wait below is for an event, not a time.
jest.setTimeout(90_000);

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Marks of one kind drawn in a chart's SVG (vega: `g.mark-rect` holds one path per bar…). */
function markCount(chart: string, kind: 'rect' | 'symbol' | 'line' | 'rule'): Promise<number> {
  return page.locator(`${chart} svg g.mark-${kind}.role-mark > path`).count();
}

beforeAll(async () => {
  if (!existsSync(join(dashboardRoot(), 'index.html'))) {
    throw new Error(`the dashboard is not built (${dashboardRoot()}): run \`npm run build\` first`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: apt-get install -y chromium`);
  mkdirSync(ARTIFACTS, { recursive: true });
  backend = await startBackend();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(60_000); // waits are for events; a loaded machine only makes them slower
  page.on('console', (message) => {
    // The 400s the tests provoke on purpose (a bad config, a bad parameter) are logged by chromium as
    // failed loads: those are expected, and checked by the tests themselves.
    if (message.type() === 'error' && !/status of 400 \(Bad Request\)/.test(message.text())) {
      consoleErrors.push(message.text());
    }
  });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
  await page.goto(backend.url);
  await page.waitForSelector('body[data-ready="true"][data-live="true"]');
  await page.waitForSelector('body[data-chart-bot="btc-ema-fast"]');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await backend?.close();
});

describe('dashboard in chromium', () => {
  test('loads every view without console errors', async () => {
    expect(await page.locator('#bot-list li.bot').count()).toBe(2);
    expect(await page.locator('#perf-body tr').count()).toBe(2);
    // The latest 300 candles up to the bot's last one asked for, 240 stored: every one is a body in the chart.
    expect(await markCount('#price-chart', 'rect')).toBe(240);
    expect(await markCount('#price-chart', 'symbol')).toBe(2);
    expect(await page.locator('#trades-body tr').count()).toBe(2);
    expect(await page.locator('#book-body tr').count()).toBe(10);
    await page.waitForSelector('#portfolio-chart svg g.mark-area');
    // Every bot's total value over time: one line per bot with an account history (btc-ema-fast only).
    await page.waitForSelector('#bots-equity svg g.mark-line.role-mark > path');
    expect(await markCount('#bots-equity', 'line')).toBe(1);
    expect(await page.locator('#bt-params input[name="fast_period"]').count()).toBe(1);
    await shot('01-loaded');
    expect(consoleErrors).toEqual([]);
  });

  test('clicking a bot switches the chart to it, and back', async () => {
    await page.click('li[data-bot="btc-macd"] .bot-name');
    await page.waitForSelector('body[data-chart-bot="btc-macd"]');
    await expect(page.locator('#chart-title').textContent()).resolves.toContain('btc-macd');
    expect(await markCount('#price-chart', 'symbol')).toBe(0); // it has no fills
    expect(await page.locator('#trades-body tr[data-seq]').count()).toBe(0);
    await page.click('#perf-body tr[data-bot="btc-ema-fast"]');
    await page.waitForSelector('body[data-chart-bot="btc-ema-fast"]');
    expect(await markCount('#price-chart', 'symbol')).toBe(2);
  });

  test('start and stop a bot: its light changes', async () => {
    const light = page.locator('li[data-bot="btc-macd"] .light');
    await expect(light.getAttribute('class')).resolves.toContain('light-inactive');
    await page.click('li[data-bot="btc-macd"] button[data-action="start"]');
    await page.waitForSelector('li[data-bot="btc-macd"] .light.light-active');
    await shot('02-started');
    await page.click('li[data-bot="btc-macd"] button[data-action="stop"]');
    await page.waitForSelector('li[data-bot="btc-macd"] .light.light-inactive');
    // A status pushed from elsewhere (another process paused it) shows too.
    await backend.push({ type: 'status', botId: 'btc-ema-fast', tsMs: LAST_CANDLE_MS, status: 'paused' });
    await page.waitForSelector('li[data-bot="btc-ema-fast"] .light.light-paused');
    expect(await page.locator('li[data-bot="btc-ema-fast"] button[data-action="resume"]').isEnabled()).toBe(
      true,
    );
    await page.click('li[data-bot="btc-ema-fast"] button[data-action="resume"]');
    await page.waitForSelector('li[data-bot="btc-ema-fast"] .light.light-active');
  });

  test('a pushed candle and a fill marker appear without reloading', async () => {
    const candles = await markCount('#price-chart', 'rect');
    const markers = await markCount('#price-chart', 'symbol');
    const closeTimeMs = LAST_CANDLE_MS + 60_000;
    await backend.push({
      type: 'candle',
      symbol: 'BTC-USDT',
      timeframe: '1m',
      closeTimeMs,
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
      candles + 1,
    );
    await expect(page.locator('#market-price').textContent()).resolves.toBe('61,400');
    // The page marks the candle's arrival and its drawing (what the api bench reads for its latency).
    await page.waitForFunction(() => performance.getEntriesByName('rxtrade:candle-drawn').length > 0);
    const marks = await page.evaluate(() =>
      ['rxtrade:candle', 'rxtrade:candle-drawn'].map((name) =>
        performance
          .getEntriesByName(name)
          .map((e) => (e as PerformanceMark).detail as { closeTimeMs: number }),
      ),
    );
    expect(marks).toEqual([
      [{ symbol: 'BTC-USDT', timeframe: '1m', closeTimeMs }],
      [{ symbol: 'BTC-USDT', timeframe: '1m', closeTimeMs }],
    ]);
    await backend.push({
      type: 'fill',
      botId: 'btc-ema-fast',
      tsMs: closeTimeMs,
      symbol: 'BTC-USDT',
      side: 'buy',
      price: 61_400,
      qty: 0.05,
      fee: 3.07,
      balanceAfter: 1_927,
      orderId: 3,
      seq: 3,
    });
    await page.waitForFunction(
      (n) => document.querySelectorAll('#price-chart svg g.mark-symbol.role-mark > path').length === n,
      markers + 1,
    );
    await page.waitForSelector('#trades-body tr[data-seq="3"]');
    await backend.push({
      type: 'performance',
      botId: 'btc-ema-fast',
      tsMs: closeTimeMs,
      totalValue: 10_250,
      cash: 1_927,
      cryptoValue: 8_323,
      totalTrades: 2,
      winningTrades: 1,
      totalFees: 13.07,
    });
    await page.waitForFunction(() =>
      document.querySelector('#perf-body tr[data-bot="btc-ema-fast"]')?.textContent?.includes('50.00 %'),
    );
    await shot('03-live-candle-and-fill');
    // Same page all along: no reload happened.
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
  });

  test('a config edit with a mistake shows the error in place', async () => {
    await page.click('li[data-bot="btc-ema-fast"] button.act-edit');
    const text = page.locator('#config-text');
    const original = await text.inputValue();
    await text.fill(original.replace('"timeframe": "1m"', '"timeframe": "7m"'));
    await page.click('#config-save');
    await page.waitForSelector('#config-error:not([hidden])');
    await expect(page.locator('#config-error code.field').textContent()).resolves.toBe('timeframe');
    const selected = await text.evaluate((el: HTMLTextAreaElement) =>
      el.value.slice(el.selectionStart, el.selectionEnd),
    );
    expect(selected).toBe('"timeframe"');
    await shot('04-config-error');
    // Broken JSON is caught before sending.
    await text.fill('{ "bot_id": ');
    await page.click('#config-save');
    await expect(page.locator('#config-error').textContent()).resolves.toMatch(/Not valid JSON/);
    // The corrected document is accepted and the editor closes.
    await text.fill(original.replace('"virtual_balance": 10000', '"virtual_balance": 12000'));
    await page.click('#config-save');
    await page.waitForSelector('#config-editor', { state: 'hidden' });
  });

  test('a new bot is created from the editor and appears in the list', async () => {
    await page.click('#bot-new');
    const text = page.locator('#config-text');
    const document = JSON.parse(await text.inputValue()) as Record<string, unknown>;
    expect(document['bot_id']).toBe('btc-ema-fast-2'); // a copy of the selected bot's config
    await text.fill(JSON.stringify({ ...document, bot_id: 'eth-ema', symbol: 'ETH-USDT' }, null, 2));
    await page.click('#config-save');
    await page.waitForSelector('li[data-bot="eth-ema"] .light.light-inactive');
    await page.waitForSelector('#config-editor', { state: 'hidden' });
    expect(await page.locator('#perf-body tr').count()).toBe(3);
  });

  test('a backtest from the form shows its results; two runs compare', async () => {
    await page.selectOption('#bt-strategy', 'ema_crossover');
    // A mistake in a parameter is shown next to it.
    await page.fill('#bt-params input[name="fast_period"]', '0');
    await page.click('#bt-run');
    await page.waitForSelector('[data-error-for="fast_period"]:not([hidden])');
    await page.fill('#bt-params input[name="fast_period"]', '5');
    await page.click('#bt-run');
    await page.waitForSelector('#bt-result:not([hidden]) #bt-metrics tr[data-metric="total_return"]');
    await page.waitForSelector('#bt-equity svg g.mark-line > path');
    // The drawdown below it: the research spec the HTML reports draw too.
    await page.waitForSelector('#bt-drawdown svg g.mark-area.role-mark > path');
    await page.waitForFunction(
      () => document.querySelectorAll('#bt-price svg g.mark-symbol.role-mark > path').length > 0,
    );
    await expect(
      page.locator('#bt-progress').evaluate((el: HTMLProgressElement) => el.value / el.max),
    ).resolves.toBe(1);
    await expect(page.locator('#bt-status').textContent()).resolves.toMatch(/^done/);
    await shot('05-backtest');

    await page.fill('#bt-params input[name="fast_period"]', '8');
    await page.click('#bt-run');
    await page.waitForFunction(() => document.querySelectorAll('#bt-runs tr[data-run]').length === 2);
    await page.waitForFunction(() => document.querySelector('#bt-status')?.textContent?.startsWith('done'));
    for (const box of await page.locator('#bt-runs input[type="checkbox"]').all()) await box.check();
    await page.click('#bt-compare');
    await page.waitForSelector('#bt-comparison:not([hidden]) #bt-compare-chart svg');
    expect(await page.locator('#bt-compare-metrics thead th').count()).toBe(3); // metric + two runs
    expect(await markCount('#bt-compare-chart', 'line')).toBe(2);
    await page.waitForSelector('#bt-compare-drawdown svg g.mark-line.role-mark > path');
    expect(await markCount('#bt-compare-drawdown', 'line')).toBe(2);
    await shot('06-backtests-compared');
    expect(consoleErrors).toEqual([]);
  });
});
