import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the rxtrade CLI in-process and collects what it printed. */
export async function runCli(
  argv: readonly string[],
  interrupted: Promise<void> = new Promise(() => {}),
): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  const code = await main(argv, { stdout, stderr, interactive: false, interrupted });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/**
 * Runs a long-running command (start, collect) and interrupts it (as Ctrl-C would) once what it printed on
 * stdout (or stderr, with `watch`) satisfies `done`, or after `timeoutMs` — so tests wait for what they need, not for a fixed time
 * that a loaded machine may not meet.
 */
export async function runCliUntil(
  argv: readonly string[],
  done: (stdout: string) => boolean,
  timeoutMs = 45_000,
  watch: 'stdout' | 'stderr' = 'stdout',
): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let stop: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => (stop = resolve));
  const timer = setTimeout(stop, timeoutMs);
  stdout.on('data', (b: Buffer) => {
    out.push(b);
    if (watch === 'stdout' && done(Buffer.concat(out).toString('utf8'))) stop();
  });
  stderr.on('data', (b: Buffer) => {
    err.push(b);
    if (watch === 'stderr' && done(Buffer.concat(err).toString('utf8'))) stop();
  });
  try {
    const code = await main(argv, { stdout, stderr, interactive: false, interrupted });
    return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
  } finally {
    clearTimeout(timer);
  }
}
