import { writeFile } from 'node:fs/promises';
import type { TopLevelSpec } from 'vega-lite';
import { UsageError } from '../../src/domain/errors.js';
import { vegaRuntime } from './runtime.js';

/** A part of a report: a chart (a Vega-Lite spec, its data inlined), an HTML table or a paragraph. */
export type ReportSection =
  | { readonly kind: 'chart'; readonly title: string; readonly spec: TopLevelSpec; readonly note?: string }
  | { readonly kind: 'table'; readonly title: string; readonly html: string; readonly note?: string }
  | { readonly kind: 'text'; readonly title?: string; readonly text: string };

export interface Report {
  readonly title: string;
  /** Lines under the title (data source, period, settings). */
  readonly subtitle: readonly string[];
  readonly sections: readonly ReportSection[];
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 1000px; color: #263238; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid #cfd8dc; }
.sub { color: #607d8b; margin: 2px 0; } .note { color: #607d8b; font-size: 12px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eceff1; } thead th { background: #f5f7f8; }
.chart { width: 100%; } .error { color: #c62828; white-space: pre-wrap; }
`;

/**
 * One self-contained HTML page: the vega runtimes inlined, every spec with its data inlined, drawn by
 * vega-embed as SVG when the page loads (no network). When every chart is drawn the body gets
 * `data-charts-settled="true"` and `data-charts-drawn="N"` (of `data-charts`); a chart that fails shows its
 * error in place and on the console.
 */
export async function renderReport(report: Report): Promise<string> {
  const runtime = await vegaRuntime();
  const specs: TopLevelSpec[] = [];
  const body = report.sections.map((s) => {
    const title = s.title === undefined ? '' : `<h2>${escapeHtml(s.title)}</h2>`;
    if (s.kind === 'text') return `<section>${title}<p>${escapeHtml(s.text)}</p></section>`;
    const note = s.note === undefined ? '' : `<p class="note">${escapeHtml(s.note)}</p>`;
    if (s.kind === 'table') return `<section>${title}${note}${s.html}</section>`;
    specs.push(s.spec);
    return `<section>${title}${note}<div class="chart" id="chart-${specs.length - 1}"></div></section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(report.title)}</title>
<meta name="generator" content="rxtrade"><style>${STYLE}</style>
${runtime.map((js) => `<script>${js}</script>`).join('\n')}
</head><body data-charts="${specs.length}">
<h1>${escapeHtml(report.title)}</h1>
${report.subtitle.map((l) => `<p class="sub">${escapeHtml(l)}</p>`).join('\n')}
${body.join('\n')}
<script type="application/json" id="specs">${jsonForScript(specs)}</script>
<script>
(function () {
  var specs = JSON.parse(document.getElementById('specs').textContent);
  var drawn = 0;
  var settled = 0;
  function done() {
    settled += 1;
    if (settled < specs.length) return;
    document.body.setAttribute('data-charts-drawn', String(drawn));
    document.body.setAttribute('data-charts-settled', 'true');
  }
  specs.forEach(function (spec, i) {
    var el = document.getElementById('chart-' + i);
    vegaEmbed(el, spec, { renderer: 'svg', actions: false }).then(function () {
      el.setAttribute('data-drawn', 'true');
      drawn += 1;
      done();
    }, function (err) {
      el.className = 'error';
      el.textContent = String(err);
      console.error('chart ' + i + ': ' + err);
      done();
    });
  });
  if (specs.length === 0) document.body.setAttribute('data-charts-settled', 'true');
})();
</script>
</body></html>
`;
}

/** Writes the report; a path that cannot be written is the user's to fix. */
export async function writeReport(path: string, report: Report): Promise<void> {
  const html = await renderReport(report);
  try {
    await writeFile(path, html);
  } catch (err) {
    throw new UsageError(`--report ${path}: cannot write it: ${(err as Error).message}`, { cause: err });
  }
}

/** The specs a report page holds (what tests compile with vega-lite). */
export function specsOfReport(html: string): TopLevelSpec[] {
  const m = /<script type="application\/json" id="specs">([\s\S]*?)<\/script>/.exec(html);
  return m === null ? [] : (JSON.parse(m[1] as string) as TopLevelSpec[]);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that cannot end its `<script>` element early (`<` as `\u003c`). */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
