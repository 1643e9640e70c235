import { InterruptedError } from '../domain/errors.js';
import type { Logger } from '../infra/logger.js';

/**
 * Ctrl-C and SIGTERM. The bound: every command stops within 2 s of the signal, whatever it is doing.
 * Commands that keep data (collect, start, import, migrate) stop themselves within these budgets; the
 * ones that only read and print are dropped at once by `main`; bin/rxtrade.js exits the process 2 s after
 * the signal whatever is left, and at once on a second signal.
 */
export const STOP_DEADLINE_MS = 2_000;
/** collect/start: what the database has not committed this long after the signal goes to the spill file. */
export const FLUSH_BUDGET_MS = 750;
/** Then closing the database and the bus (a hung server must not hold the exit). */
export const CLOSE_BUDGET_MS = 500;

/** Whether the user asked to stop, readable at any time, and the promise that says so. */
export interface InterruptWatch {
  readonly requested: boolean;
  readonly promise: Promise<void>;
}

export function watchInterrupt(interrupted: Promise<void>): InterruptWatch {
  let requested = false;
  const promise = interrupted.then(() => {
    requested = true;
  });
  return {
    get requested() {
      return requested;
    },
    promise,
  };
}

/**
 * Opens something that must be closed (a database, a runtime) unless the user interrupts first. With
 * `abandon` (a Postgres connect: nothing written yet) the wait ends at once and the open, when it
 * finishes, is closed; without (PGlite: an initdb or migration cut short can leave a broken folder) the open
 * is let finish, then closed. Either way the caller gets InterruptedError.
 */
export async function openUnlessInterrupted<T extends { close(): Promise<void> }>(
  opening: Promise<T>,
  stop: InterruptWatch,
  what: string,
  abandon: boolean,
): Promise<T> {
  const interrupted = (): InterruptedError => new InterruptedError(`interrupted while ${what}`);
  if (abandon) {
    const first = await Promise.race([opening, stop.promise.then(() => undefined)]);
    if (first === undefined || stop.requested) {
      void opening.then((opened) => opened.close()).catch(() => undefined);
      throw interrupted();
    }
    return first;
  }
  const opened = await opening;
  if (stop.requested) {
    await opened.close();
    throw interrupted();
  }
  return opened;
}

/** Waits for `closing` at most `ms`; a close that hangs (a dead server) is logged and left behind. */
export async function closeWithin(
  closing: Promise<void>,
  ms: number,
  what: string,
  logger?: Logger,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  try {
    const outcome = await Promise.race([closing.then(() => 'closed' as const), late]);
    if (outcome === 'late') logger?.warn({ waitedMs: ms }, `${what} did not close in time; exiting anyway`);
  } catch (err) {
    logger?.warn({ err }, `${what} failed to close`);
  } finally {
    clearTimeout(timer);
  }
}
