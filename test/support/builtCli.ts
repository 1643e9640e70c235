import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The built rxtrade command (`node bin/rxtrade.js`, needs `npm run build`) as a real process: for what
 * only separate processes show (two processes on one PGlite folder, signals, a hang).
 */

const BIN = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin/rxtrade.js');

/** The environment with nothing that would point the command elsewhere than the flags say. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...extra };
  for (const key of Object.keys(env)) {
    if (key.startsWith('OKX_') || key === 'DATABASE_URL' || key === 'REDIS_URL') delete env[key];
  }
  delete env.NODE_OPTIONS; // jest's --experimental-vm-modules is not the CLI's business
  return env;
}

export interface ProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running rxtrade process whose output is collected as it comes. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<ProcessResult>;
  private readonly waiters = new Set<() => void>();

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv()) {
    this.child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (b: Buffer) => {
      this.stdout += b.toString('utf8');
      this.notify();
    });
    this.child.stderr?.on('data', (b: Buffer) => {
      this.stderr += b.toString('utf8');
      this.notify();
    });
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        this.notify();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /**
   * Resolves once what the process printed satisfies `ready`; rejects if it exits first or `timeoutMs`
   * passes (a safety net against a hang, not a measure of speed).
   */
  waitFor(ready: (p: CliProcess) => boolean, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      let done = false;
      const check = (): void => {
        if (done) return;
        if (ready(this)) finish();
        else if (this.child.exitCode !== null || this.child.signalCode !== null)
          finish(new Error(`rxtrade exited before it was ready:\n${this.stderr}`));
      };
      const timer = setTimeout(
        () => finish(new Error(`not ready after ${timeoutMs} ms:\n${this.stderr}`)),
        timeoutMs,
      );
      const finish = (err?: Error): void => {
        done = true;
        clearTimeout(timer);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends `signal` and waits for the exit; SIGKILL after `timeoutMs` so a test never leaves it behind. */
  async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 90_000): Promise<ProcessResult> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }
}

/** Runs the built CLI to its end; killed (and so failing the test) after `timeoutMs`. */
export async function runBuiltCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ProcessResult & { readonly ms: number }> {
  const t0 = Date.now();
  const p = new CliProcess(args, options.env ?? cleanEnv());
  const timer = setTimeout(() => p.child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  try {
    const result = await p.exited;
    return { ...result, ms: Date.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}
