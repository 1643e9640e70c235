import { Observable, type SchedulerAction, type SchedulerLike } from 'rxjs';
import type { VirtualClock } from '../scheduling/virtualClock.js';

/**
 * Replays time-stamped records in virtual time: for each record, advance `clock` to its time (running the
 * timers that fall due on the way, e.g. candles closing in a quiet market), then emit it. Synchronous; the
 * clock is left at the last record's time, so nothing after the data is ever simulated.
 * Records must be in time order: a record older than the clock is emitted as it is (the clock never goes
 * back) and it is up to the operators downstream to treat it as late.
 */
export function replayInVirtualTime<T>(
  records: Iterable<T>,
  timeOf: (record: T) => number,
  clock: VirtualClock,
): Observable<T> {
  return new Observable<T>((subscriber) => {
    try {
      for (const record of records) {
        clock.advanceTo(timeOf(record));
        if (subscriber.closed) return;
        subscriber.next(record);
        if (subscriber.closed) return;
      }
      subscriber.complete();
    } catch (err) {
      subscriber.error(err);
    }
  });
}

/**
 * Replays time-stamped records in step with a running scheduler: each record is emitted when
 * `scheduler.now()` reaches its time (records already due go out at once, in order). With a real-time
 * scheduler this is a live feed; with a `ReplayClock` it is history played back at a chosen speed.
 */
export function replayPaced<T>(
  records: readonly T[],
  timeOf: (record: T) => number,
  scheduler: SchedulerLike,
): Observable<T> {
  return new Observable<T>((subscriber) => {
    let i = 0;
    const step = function (this: SchedulerAction<undefined>): void {
      try {
        const now = scheduler.now();
        while (i < records.length && !subscriber.closed) {
          const record = records[i] as T;
          const due = timeOf(record);
          if (due > now) {
            this.schedule(undefined, due - now);
            return;
          }
          i += 1;
          subscriber.next(record);
        }
        subscriber.complete();
      } catch (err) {
        subscriber.error(err);
      }
    };
    return scheduler.schedule(step, 0);
  });
}
