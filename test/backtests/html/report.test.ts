import { readFileSync } from 'node:fs';
import { compile, type TopLevelSpec } from 'vega-lite';
import { specsOfReport } from '../../../backtests/html/page.js';
import { monthlyReturns } from '../../../backtests/html/tables.js';
import { writeReports, type ReportFiles } from './support.js';

let files: ReportFiles;

beforeAll(async () => {
  files = await writeReports();
}, 120_000);

/** Compiles a spec as vega-embed would; vega-lite's warnings and errors fail the test. */
function compileStrict(spec: TopLevelSpec): { data: { name: string; values?: unknown[] }[] } {
  const problems: string[] = [];
  const logger = {
    level: () => logger,
    error: (...m: unknown[]) => (problems.push(`error ${m.join(' ')}`), logger),
    warn: (...m: unknown[]) => (problems.push(`warn ${m.join(' ')}`), logger),
    info: () => logger,
    debug: () => logger,
  };
  const out = compile(spec, { logger: logger as never }).spec as unknown as {
    data: { name: string; values?: unknown[] }[];
  };
  expect(problems).toEqual([]);
  return out;
}

describe('HTML reports', () => {
  test.each([
    ['backtest', 4],
    ['compare', 6],
    ['grid', 5],
    ['walkForward', 3],
  ] as const)(
    '%s: one self-contained page whose %i specs compile with their data inlined',
    (kind, charts) => {
      const html = readFileSync(files[kind], 'utf8');
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html.trimEnd().endsWith('</html>')).toBe(true);
      // Nothing is fetched: outside the inlined scripts, no element has a src or href.
      const markup = html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '<script></script>');
      expect(markup.match(/<[^>]+\s(src|href)=[^>]*>/gi) ?? []).toEqual([]);
      // vega, vega-lite, vega-embed, the specs and the drawing code.
      expect((markup.match(/<script><\/script>/g) ?? []).length).toBe(5);
      expect(html.includes('vegaEmbed(')).toBe(true);
      expect(Number(/<body data-charts="(\d+)"/.exec(html)?.[1])).toBe(charts);
      const specs = specsOfReport(html);
      expect(specs).toHaveLength(charts);
      for (const spec of specs) {
        const vega = compileStrict(spec);
        // Every chart carries its rows (datasets inlined, none loaded from a URL).
        const rows = vega.data.reduce((n, d) => n + (d.values?.length ?? 0), 0);
        expect(rows).toBeGreaterThan(0);
        expect(JSON.stringify(spec)).not.toMatch(/"url"\s*:/);
      }
    },
  );

  test('the tables are in the page: metrics, folds, the significance and drawdown tables', () => {
    const compare = readFileSync(files.compare, 'utf8');
    for (const heading of [
      'Metrics side by side',
      'Difference vs sma_cross',
      'Max drawdown by trade order',
    ]) {
      expect(compare).toContain(heading);
    }
    expect(compare).toMatch(/<th[^>]*>Sharpe p<\/th>/);
    const wf = readFileSync(files.walkForward, 'utf8');
    expect(wf).toContain('Walk-forward folds');
    expect((wf.match(/<tr>/g) ?? []).length).toBeGreaterThan(6);
    const grid = readFileSync(files.grid, 'utf8');
    expect(grid).toContain('sharpe over fast_period × slow_period');
  });

  test('monthly returns: month-end equity over the previous month-end (the initial cash first)', () => {
    const day = 86_400_000;
    const jan30 = Date.UTC(2021, 0, 30);
    // Closes on Jan 30, Jan 31, Feb 1 00:00 (the candle of Jan 31's last minute: January), Feb 2, Mar 1.
    const times = [jan30, jan30 + day, jan30 + 2 * day, jan30 + 3 * day, Date.UTC(2021, 2, 1, 12)];
    const rows = monthlyReturns([
      {
        label: 'a',
        initialCash: 100,
        result: { equityTimesMs: times, equity: [101, 102, 110, 99, 108.9] },
      },
    ]);
    expect(rows.map((r) => [r.year, r.month])).toEqual([
      [2021, 1],
      [2021, 2],
      [2021, 3],
    ]);
    expect(rows[0]?.ret).toBeCloseTo(0.1, 12);
    expect(rows[1]?.ret).toBeCloseTo(-0.1, 12);
    expect(rows[2]?.ret).toBeCloseTo(0.1, 12);
  });
});
