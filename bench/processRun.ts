import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';

/** GNU time, when the machine has it: the CPU time of a child process (user + system, all its threads). */
const GNU_TIME = '/usr/bin/time';

export interface ProcessRun {
  /** Wall-clock seconds, spawn to exit. */
  readonly seconds: number;
  /** User + system CPU seconds of the child (undefined without GNU time). */
  readonly cpuSeconds: number | undefined;
  /** The 1-minute load average when it ended: on a shared machine the wall time means little without it. */
  readonly load: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node args…` as a whole process and measures it: wall time, and CPU time (what the process itself
 * used, which other work on a busy machine distorts far less than the wall time). Throws when it fails.
 */
export function runNodeProcess(
  what: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ProcessRun {
  const timed = existsSync(GNU_TIME);
  const [cmd, argv] = timed
    ? [GNU_TIME, ['-f', 'BENCH-CPU %U %S', process.execPath, ...args]]
    : [process.execPath, [...args]];
  const t0 = process.hrtime.bigint();
  const child = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 256 << 20, env });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let stderr = child.stderr;
  let cpuSeconds: number | undefined;
  if (timed) {
    const m = /BENCH-CPU ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
    if (m !== null) {
      cpuSeconds = Number(m[1]) + Number(m[2]);
      stderr = stderr.slice(0, m.index);
    }
  }
  if (child.status !== 0) throw new Error(`bench ${what}: exited ${child.status}: ${stderr}`);
  return { seconds, cpuSeconds, load: loadavg()[0] as number, stdout: child.stdout, stderr };
}
