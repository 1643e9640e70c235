import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Bus } from '../src/bus/bus.js';
import { marketChannel, type CandleMessage } from '../src/bus/messages.js';
import { dashboardRoot } from '../src/http/dashboard/serve.js';
import { stats } from './machine.js';

const MIN = 60_000;

/** What the page's User Timing marks say of one candle: epoch ms of its arrival and of its drawing. */
interface PageMark {
  readonly name: string;
  readonly closeTimeMs: number;
  readonly epochMs: number;
}

/**
 * Candle close → browser: the dashboard (the built page, in Debian's chromium) open on `url`, showing a
 * BTC-USDT 1m bot; `candles` closed candles are published on `bus` (as the collector does when a candle
 * closes) every `everyMs`, after `afterMs`. The page marks `rxtrade:candle` when the Socket.IO event
 * arrives and `rxtrade:candle-drawn` once the chart shows it; each minus the publish time (same machine,
 * same clock) is a latency. One line: p50/p95/max of both.
 */
export async function benchCandleToBrowser(
  url: string,
  bus: Bus,
  afterMs: number,
  candles = 40,
  everyMs = 150,
): Promise<string> {
  const executablePath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
  if (!existsSync(executablePath) || !existsSync(join(dashboardRoot(), 'index.html'))) {
    return `api candle close → browser: skipped (no chromium at ${executablePath} or the dashboard is not built)`;
  }
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(60_000);
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"][data-live="true"][data-chart-bot]');
    let closeTimeMs = afterMs;
    const publish = async (): Promise<number> => {
      closeTimeMs += MIN;
      const p = 40_000 + 200 * Math.sin(closeTimeMs / MIN / 20);
      const message: CandleMessage = {
        type: 'candle',
        symbol: 'BTC-USDT',
        timeframe: '1m',
        closeTimeMs,
        open: p,
        high: p + 10,
        low: p - 10,
        close: p + 3,
        volume: 1,
        tradesCount: 5,
        revision: 0,
      };
      const at = Date.now();
      await bus.publish(marketChannel('BTC-USDT'), message);
      return at;
    };
    // Warm-up: until one candle is drawn (the page has joined the market's room, the chart is compiled).
    const drawn = () =>
      page.evaluate(() => performance.getEntriesByName('rxtrade:candle-drawn', 'mark').length);
    for (let i = 0; (await drawn()) === 0; i++) {
      if (i > 200) throw new Error('the page never drew a pushed candle');
      await publish();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await page.evaluate(() => performance.clearMarks());
    const published = new Map<number, number>();
    for (let i = 0; i < candles; i++) {
      const at = await publish();
      published.set(closeTimeMs, at);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
    const last = closeTimeMs;
    await page.waitForFunction(
      (t) =>
        performance
          .getEntriesByName('rxtrade:candle-drawn', 'mark')
          .some((m) => (m as unknown as { detail?: { closeTimeMs?: number } }).detail?.closeTimeMs === t),
      last,
    );
    const marks: PageMark[] = await page.evaluate(() =>
      ['rxtrade:candle', 'rxtrade:candle-drawn'].flatMap((name) =>
        performance.getEntriesByName(name, 'mark').map((m) => ({
          name,
          closeTimeMs: (m as unknown as { detail: { closeTimeMs: number } }).detail.closeTimeMs,
          epochMs: performance.timeOrigin + m.startTime,
        })),
      ),
    );
    const latencies = (name: string): number[] =>
      marks
        .filter((m) => m.name === name && published.has(m.closeTimeMs))
        .map((m) => m.epochMs - (published.get(m.closeTimeMs) as number))
        .sort((a, b) => a - b);
    const arrived = latencies('rxtrade:candle');
    const shown = latencies('rxtrade:candle-drawn');
    const describe = (xs: number[]): string => {
      const s = stats(xs);
      const p95 = xs[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))] ?? Number.NaN;
      return `p50 ${s.median.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
    };
    // Pushes closer than a frame coalesce into one drawing: only the candles drawn themselves count there.
    return (
      `api candle close → browser (chromium, in-process bus, ${candles} candles every ${everyMs} ms): ` +
      `event ${describe(arrived)} (${arrived.length}); drawn on the chart ${describe(shown)} (${shown.length}); target < 500 ms`
    );
  } finally {
    await browser.close();
  }
}
