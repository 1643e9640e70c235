import { compile, type TopLevelSpec } from 'vega-lite';
import {
  drawdownRows,
  drawdownSpec,
  monthlyReturnsSpec,
  parameterHeatmapSpec,
} from '../../src/http/dashboard/researchSpecs.js';

/** Compiles as vega-embed does; a vega-lite warning or error fails. Returns the Vega mark types. */
function markTypes(spec: TopLevelSpec): string[] {
  const problems: string[] = [];
  const logger = {
    level: () => logger,
    error: (...m: unknown[]) => (problems.push(`error ${m.join(' ')}`), logger),
    warn: (...m: unknown[]) => (problems.push(`warn ${m.join(' ')}`), logger),
    info: () => logger,
    debug: () => logger,
  };
  const out = compile(spec, { logger: logger as never }).spec as unknown as { marks: Mark[] };
  expect(problems).toEqual([]);
  return flat(out.marks);
}
interface Mark {
  type: string;
  marks?: Mark[];
}
const flat = (marks: readonly Mark[]): string[] => marks.flatMap((m) => [m.type, ...flat(m.marks ?? [])]);

describe('research specs', () => {
  test('drawdown rows: the fall from each run’s own running peak', () => {
    const rows = drawdownRows([
      { run: 'a', tMs: 1, value: 100 },
      { run: 'b', tMs: 1, value: 50 },
      { run: 'a', tMs: 2, value: 120 },
      { run: 'a', tMs: 3, value: 90 },
      { run: 'b', tMs: 2, value: 40 },
      { run: 'a', tMs: 4, value: 130 },
    ]);
    expect(rows.map((r) => [r.run, r.drawdown])).toEqual([
      ['a', 0],
      ['b', 0],
      ['a', 0],
      ['a', -0.25],
      ['b', -0.2],
      ['a', 0],
    ]);
    expect(
      markTypes(
        drawdownSpec(
          rows.filter((r) => r.run === 'a'),
          { width: 400 },
        ),
      ),
    ).toContain('area');
    expect(markTypes(drawdownSpec(rows, { width: 400 }))).toContain('line');
  });

  test('monthly returns: one heatmap, or a row of them per run', () => {
    const rows = [
      { run: 'a', year: 2021, month: 4, ret: 0.05 },
      { run: 'a', year: 2021, month: 5, ret: -0.02 },
      { run: 'b', year: 2021, month: 5, ret: 0.01 },
    ];
    expect(markTypes(monthlyReturnsSpec(rows.slice(0, 2)))).toEqual(expect.arrayContaining(['rect', 'text']));
    expect(markTypes(monthlyReturnsSpec(rows))).toEqual(expect.arrayContaining(['group', 'rect', 'text']));
  });

  test('parameter heatmap: a cell per combination, an undefined metric left blank', () => {
    const cells = [
      { x: 5, y: 20, value: 1.2 },
      { x: 10, y: 20, value: null },
      { x: 5, y: 40, value: -0.3 },
      { x: 10, y: 40, value: 0.8 },
    ];
    const spec = parameterHeatmapSpec(
      cells,
      { x: 'fast_period', y: 'slow_period', metric: 'sharpe' },
      { width: 300 },
    );
    expect(markTypes(spec)).toEqual(expect.arrayContaining(['rect', 'text']));
    expect(spec.datasets?.['grid']).toHaveLength(4);
  });
});
