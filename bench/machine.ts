import { cpus, loadavg, platform, release, totalmem } from 'node:os';

/** One line describing where a benchmark ran: numbers mean little without it. */
export function describeMachine(): string {
  const cpu = cpus();
  const model = cpu[0]?.model.trim() ?? 'unknown CPU';
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `${model} × ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${release()}, node ${process.version}, load ${load}`;
}

export interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

export function stats(samples: readonly number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { median, min: s[0] as number, max: s[s.length - 1] as number, runs: s.length };
}

/** Runs `fn` `warmup` times unmeasured, then `runs` times; returns the seconds of each measured run. */
export function time(fn: () => void, runs: number, warmup = 2): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return out;
}

/**
 * Runs `fn` with the candle CSV cache off (RXTRADE_CSV_CACHE=0 in this process meanwhile): what it reads
 * is parsed, as a figure of the parser's speed must be.
 */
export async function parsingCsv<T>(fn: () => Promise<T>): Promise<T> {
  const before = process.env.RXTRADE_CSV_CACHE;
  process.env.RXTRADE_CSV_CACHE = '0';
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.RXTRADE_CSV_CACHE;
    else process.env.RXTRADE_CSV_CACHE = before;
  }
}
