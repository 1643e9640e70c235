import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The process's memory right after a full garbage collection, in MB. */
export interface MemorySample {
  /** The V8 heap in use: what a leak of JS objects grows. */
  readonly heapUsedMb: number;
  readonly rssMb: number;
  /** Memory of buffers and ArrayBuffers outside the heap (PGlite's WebAssembly memory is here). */
  readonly externalMb: number;
}

/** Event-loop delay over an interval, in ms. */
export interface LoopDelay {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * A full garbage collection: `global.gc` when node runs with --expose-gc (as `npm run soak` does), else
 * the same function obtained by setting the flag at run time (tests run under jest without the flag).
 */
export function fullGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const MB = 1024 * 1024;

/** Collects twice (objects freed by finalizers of the first pass go in the second), then reads memory. */
export function memoryAfterGc(gc: () => void): MemorySample {
  gc();
  gc();
  const m = process.memoryUsage();
  return {
    heapUsedMb: round(m.heapUsed / MB, 1),
    rssMb: round(m.rss / MB, 1),
    externalMb: round(m.external / MB, 1),
  };
}

/**
 * The open handles keeping the process alive (sockets, timers, file handles…) by type, as
 * `process.getActiveResourcesInfo()` names them. A count that keeps rising is a leak of connections or timers.
 */
export function openHandles(): { readonly total: number; readonly byType: Readonly<Record<string, number>> } {
  const byType: Record<string, number> = {};
  const all = process.getActiveResourcesInfo();
  for (const type of all) byType[type] = (byType[type] ?? 0) + 1;
  return { total: all.length, byType };
}

/** perf_hooks' event-loop delay histogram, read and reset once per sample. */
export class LoopDelayMonitor {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.histogram.enable();
  }

  /** The delays since the last call (or since construction). */
  take(): LoopDelay {
    const h = this.histogram;
    const ns = 1e6;
    const sample = {
      p50Ms: round(h.percentile(50) / ns, 1),
      p99Ms: round(h.percentile(99) / ns, 1),
      maxMs: round(h.max / ns, 1),
    };
    h.reset();
    return sample;
  }

  stop(): void {
    this.histogram.disable();
  }
}

function round(x: number, decimals: number): number {
  return Number.isFinite(x) ? Number(x.toFixed(decimals)) : 0;
}
