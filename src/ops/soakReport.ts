import { heapGrowth, type SoakSample } from './soakChecks.js';
import type { SoakReport } from './soak.js';

const HEADERS = [
  'hour',
  'wall s',
  'heap MB',
  'rss MB',
  'ext MB',
  'handles',
  'loop p50',
  'loop p99',
  'loop max',
  'candles',
  'fills',
  'signals',
  'perf',
  'late',
  'queued',
] as const;

/** One line per sample: the soak's table, bots' total values last (one column per bot). */
export function soakTable(samples: readonly SoakSample[]): string {
  const botKeys = [...new Set(samples.flatMap((s) => s.bots.map((b) => b.botKey)))].sort();
  const header = [...HEADERS, ...botKeys, 'api'];
  const rows = samples.map((s) => [
    String(s.hour),
    String(s.wallSec),
    s.memory.heapUsedMb.toFixed(1),
    s.memory.rssMb.toFixed(0),
    s.memory.externalMb.toFixed(0),
    String(s.handles),
    s.loop.p50Ms.toFixed(1),
    s.loop.p99Ms.toFixed(1),
    s.loop.maxMs.toFixed(0),
    String(s.rows.market_data ?? 0),
    String(s.rows.trades ?? 0),
    String(s.rows.signals ?? 0),
    String(s.rows.bot_performance ?? 0),
    String(s.feed.lateTrades),
    String(s.feed.queued + s.feed.spillPending),
    ...botKeys.map((k) => {
      const b = s.bots.find((x) => x.botKey === k);
      return b === undefined
        ? '-'
        : `${b.totalValue.toFixed(2)}${b.status === 'active' ? '' : ` (${b.status})`}`;
    }),
    s.apiOk ? 'ok' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padStart(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** The whole report: the table, then the candles, the bots, the faults injected, the warnings, the verdict. */
export function formatSoakReport(r: SoakReport): string {
  const out: string[] = [];
  out.push(`rxtrade soak: ${r.hours} simulated hours at ${r.speed}× in ${r.wallSec} s of wall time`, '');
  out.push(soakTable(r.samples));
  const last = r.samples[r.samples.length - 1];
  const growth = heapGrowth(r.samples);
  if (r.samples.length > 0) {
    const heaps = r.samples.map((s) => s.memory.heapUsedMb);
    out.push(
      `heap after GC: ${Math.min(...heaps)}–${Math.max(...heaps)} MB` +
        (growth !== undefined
          ? `; ${growth.baselineMb} MB at hour 1, at least ${growth.floorMb} MB from hour ${growth.fromHour} on ` +
            `(${growth.fraction >= 0 ? '+' : ''}${(growth.fraction * 100).toFixed(1)} %)`
          : '') +
        `; event-loop p99 worst ${Math.max(...r.samples.map((s) => s.loop.p99Ms))} ms, ` +
        `median ${median(r.samples.map((s) => s.loop.p99Ms))} ms`,
    );
  }
  for (const m of r.minutes) {
    const s = r.stream[m.symbol];
    out.push(
      `1m candles ${m.symbol}: ${m.rows} stored, ${m.missingCount} missing, ${m.duplicated.length} duplicated` +
        (s !== undefined ? `; to the bots ${s.candles}, ${s.repeated} repeated, ${s.skipped} skipped` : ''),
    );
  }
  for (const b of last?.bots ?? []) {
    out.push(
      `bot ${b.botKey}: ${b.status}, cash ${b.cash.toFixed(2)}, value ${b.totalValue.toFixed(2)}, ${b.trades} fills` +
        (b.statusMessage !== undefined ? ` (${b.statusMessage})` : ''),
    );
  }
  const sim = r.sim;
  out.push(
    `simulator: ${sim.trades} trades, ${sim.connectionsTotal} connections, ${sim.drops} drops, ${sim.stalls} stalls, ` +
      `${sim.notices} notices, ${sim.garbageFrames} garbage frames, ${sim.duplicates} duplicated pushes, ` +
      `${sim.restRequests} REST requests (${sim.rateLimited} rate-limited)`,
  );
  out.push(
    `collector: ${r.collector.trades} trades, ${r.collector.candles} candles, ${r.collector.lateTrades} late trades`,
  );
  const warnings = Object.entries(r.warnings);
  if (warnings.length > 0) {
    out.push('logged:');
    for (const [what, n] of warnings.slice(0, 15)) out.push(`  ${String(n).padStart(6)}  ${what}`);
  }
  out.push('');
  if (r.failures.length === 0) out.push('PASS');
  else out.push(`FAIL (${r.failures.length})`, ...r.failures.map((f) => `  ${f}`));
  return out.join('\n') + '\n';
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}
