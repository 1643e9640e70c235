import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI (`npm run build`): tests that need a real process (signals, exit) spawn it. */
export const RXTRADE_BIN = fileURLToPath(new URL('../../bin/rxtrade.js', import.meta.url));

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A spawned `rxtrade`: what it printed so far, waits on its output, and signals with the time to exit. */
export class SpawnedCli {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private waiters: (() => void)[] = [];
  private exitedAtMs: number | undefined;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    // Only what the test gives (plus PATH, and a free HTTP port unless given): the developer's OKX_*,
    // DATABASE_URL… never leak in.
    this.child = spawn(process.execPath, [RXTRADE_BIN, ...args], {
      env: { PATH: process.env.PATH, HTTP_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (b: Buffer) => {
      this.stdout += b.toString('utf8');
      this.wake();
    });
    this.child.stderr?.on('data', (b: Buffer) => {
      this.stderr += b.toString('utf8');
      this.wake();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitedAtMs = performance.now();
        resolve({ code, signal });
        this.wake();
      });
    });
  }

  /** Resolves once `done()` holds (checked at every output), or fails after `timeoutMs` naming `what`. */
  async until(what: string, done: () => boolean, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.exitedAtMs !== undefined) {
        throw new Error(`rxtrade exited while waiting for ${what}:\n${this.stderr.slice(-2000)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}:\n${this.stderr.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends `signal`; resolves with how it exited and the wall time from the signal to the exit. */
  async signal(signal: NodeJS.Signals = 'SIGINT'): Promise<Exit & { readonly ms: number }> {
    const sentAt = performance.now();
    this.child.kill(signal);
    const exit = await this.exited;
    return { ...exit, ms: (this.exitedAtMs as number) - sentAt };
  }

  /** Sends `signal` without waiting. */
  send(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  kill(): void {
    if (this.exitedAtMs === undefined) this.child.kill('SIGKILL');
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
