import { interruptedBy, sleep as abortableSleep, untilAborted } from './abort.js';

/**
 * Sliding-window limiter: at most `limit` acquisitions in any `windowMs`. `acquire()` resolves when a slot
 * is free. Used to stay inside exchange limits (OKX: 20 requests / 2 s per endpoint, 3 connections / s).
 */
export class RateLimiter {
  private readonly stamps: number[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void> = abortableSleep,
  ) {}

  /**
   * Waits for a slot; callers are served in call order. When `signal` aborts, the wait rejects at once
   * and takes no slot, and the callers behind it move up.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    const turn = this.chain.then(() => this.take(signal));
    this.chain = turn.catch(() => undefined);
    return untilAborted(turn, signal, 'waiting for a rate-limit slot');
  }

  /** After the venue said "too many": treat the window as full for `ms`. */
  penalize(ms: number): void {
    const until = this.now() + ms - this.windowMs;
    this.stamps.length = 0;
    for (let i = 0; i < this.limit; i++) this.stamps.push(until);
  }

  private async take(signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw interruptedBy(signal, 'waiting for a rate-limit slot');
      const now = this.now();
      while (this.stamps.length > 0 && (this.stamps[0] as number) <= now - this.windowMs) this.stamps.shift();
      if (this.stamps.length < this.limit) {
        this.stamps.push(now);
        return;
      }
      await this.sleep((this.stamps[0] as number) + this.windowMs - now + 1, signal);
    }
  }
}

/** Exponential backoff with jitter: base·2^(attempt−1), capped, ± jitter (0.2 = ±20 %). */
export function backoffMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  jitter: number,
  random: () => number,
): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(0, Math.round(raw * (1 + jitter * (2 * random() - 1))));
}

/** A configurable exponential backoff: base·2^(n−1) capped at max, ± jitter. */
export interface BackoffOptions {
  readonly baseMs?: number;
  readonly maxMs?: number;
  readonly jitter?: number;
}

/** `backoffMs` with each setting taken from `options`, else from `defaults`. */
export function backoffWith(
  attempt: number,
  options: BackoffOptions | undefined,
  defaults: Required<BackoffOptions>,
  random: () => number,
): number {
  const o = options ?? {};
  return backoffMs(
    attempt,
    o.baseMs ?? defaults.baseMs,
    o.maxMs ?? defaults.maxMs,
    o.jitter ?? defaults.jitter,
    random,
  );
}
