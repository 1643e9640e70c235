import { InterruptedError, RxtradeError } from '../domain/errors.js';

/**
 * Stopping waits and requests on purpose: every long wait in rxtrade (a backoff, a rate-limit slot, an HTTP
 * request) takes an AbortSignal, so `stop()` and Ctrl-C end it at once and leave no timer behind.
 */

/** What an aborted wait rejects with: the signal's reason when it is already an InterruptedError. */
export function interruptedBy(signal: AbortSignal, what: string): InterruptedError {
  const reason: unknown = signal.reason;
  return reason instanceof InterruptedError
    ? reason
    : new InterruptedError(`${what}: stopped`, { cause: reason });
}

/** Resolves after `ms`; rejects at once (and clears its timer) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal === undefined) return new Promise((resolve) => setTimeout(resolve, ms));
  if (signal.aborted) return Promise.reject(interruptedBy(signal, 'wait'));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(interruptedBy(signal, 'wait'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** `promise`, or a rejection as soon as `signal` aborts (the work itself goes on; its result is dropped). */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  what: string,
): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(interruptedBy(signal, what));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(interruptedBy(signal, what));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** An AbortSignal that fires when any of `parents` does, or after `timeoutMs`; `dispose()` unhooks it all. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** True when it fired because `timeoutMs` passed (not because a parent aborted). */
  readonly timedOut: boolean;
  dispose(): void;
}

export function linkSignals(parents: readonly (AbortSignal | undefined)[], timeoutMs?: number): LinkedSignal {
  const controller = new AbortController();
  let timedOut = false;
  const hooked: AbortSignal[] = [];
  const onAbort = (event: Event): void => controller.abort((event.target as AbortSignal).reason);
  for (const p of parents) {
    if (p === undefined) continue;
    if (p.aborted) {
      controller.abort(p.reason);
      break;
    }
    p.addEventListener('abort', onAbort, { once: true });
    hooked.push(p);
  }
  const timer =
    timeoutMs === undefined || controller.signal.aborted
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          controller.abort(new RxtradeError('timeout', `no answer within ${timeoutMs} ms`));
        }, timeoutMs);
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    dispose() {
      clearTimeout(timer);
      for (const p of hooked) p.removeEventListener('abort', onAbort);
    },
  };
}
