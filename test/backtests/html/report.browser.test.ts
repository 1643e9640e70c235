import { jest } from '@jest/globals';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { writeReports, type ReportFiles } from './support.js';

/**
 * Each kind of report opened in Debian's chromium (through playwright-core) with every network request
 * refused: the page must draw all its charts from what the file holds, without a console error.
 */

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

let browser: Browser;
let files: ReportFiles;

// A loaded machine only makes the waits below longer: they wait for the page's own signal, not for a time.
jest.setTimeout(120_000);

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: apt-get install -y chromium`);
  files = await writeReports();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
});

describe('HTML reports in chromium, offline', () => {
  test.each(['backtest', 'compare', 'grid', 'walkForward'] as const)(
    '%s: every chart is drawn',
    async (kind) => {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      page.setDefaultTimeout(90_000);
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (err) => errors.push(String(err)));
      await page.route('**/*', async (route) => {
        const url = route.request().url();
        if (url.startsWith('file:')) return route.continue();
        requests.push(url);
        return route.abort();
      });
      await page.goto(pathToFileURL(files[kind]).href);
      await page.waitForSelector('body[data-charts-settled="true"]', { state: 'attached' });
      const charts = Number(await page.getAttribute('body', 'data-charts'));
      expect(charts).toBeGreaterThanOrEqual(3);
      expect(Number(await page.getAttribute('body', 'data-charts-drawn'))).toBe(charts);
      // Each chart holds one drawing with marks in it (vega's SVG: a path or text per mark).
      expect(
        await page.locator('.chart[data-drawn="true"] > svg, .chart[data-drawn="true"] > canvas').count(),
      ).toBe(charts);
      for (let i = 0; i < charts; i++) {
        expect(
          await page.locator(`#chart-${i} svg .role-mark path, #chart-${i} svg .role-mark text`).count(),
        ).toBeGreaterThan(0);
      }
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      await page.close();
    },
  );
});
