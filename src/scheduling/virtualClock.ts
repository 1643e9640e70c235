import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';

/**
 * A scheduler whose clock moves only when told to: the time source of backtests and replays.
 *
 * `advanceTo(t)` runs every action due at or before `t`, in time order (ties in scheduling order), with
 * `now()` reading each action's due time while it runs, then leaves the clock at `t`. The clock never goes
 * back. This is the NautilusTrader pattern: advance to each record's timestamp, fire due timers, then
 * dispatch the record.
 *
 * RxJS's own VirtualTimeScheduler is built for marble tests: it keeps every rescheduled action alive
 * (a chain that grows by one object per reschedule) and re-sorts its queue on every schedule, so a
 * year-long backtest would hold millions of dead actions. This one recycles actions and uses a heap.
 */
export class VirtualClock implements SchedulerLike {
  private nowMs: number;
  private readonly queue: Entry[] = [];
  private sequence = 0;

  constructor(startMs = 0) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    return new ClockAction<T>(this, work).schedule(state, delay);
  }

  /** Number of actions waiting to run. */
  get pending(): number {
    return this.queue.reduce((n, e) => n + (e.action.isCurrent(e.sequence) ? 1 : 0), 0);
  }

  /** Time of the next due action, or undefined when nothing is scheduled. */
  nextDueMs(): number | undefined {
    this.dropStale();
    return this.queue[0]?.dueMs;
  }

  /** Runs the actions due up to `timeMs` (inclusive), then sets the clock to `timeMs` if that is later. */
  advanceTo(timeMs: number): void {
    for (;;) {
      this.dropStale();
      const head = this.queue[0];
      if (head === undefined || head.dueMs > timeMs) break;
      this.pop();
      if (head.dueMs > this.nowMs) this.nowMs = head.dueMs;
      head.action.run();
    }
    if (timeMs > this.nowMs) this.nowMs = timeMs;
  }

  /** @internal */
  enqueue(action: ClockAction<unknown>, delay: number): number {
    const sequence = ++this.sequence;
    const entry: Entry = { dueMs: this.nowMs + Math.max(0, delay), sequence, action };
    const q = this.queue;
    q.push(entry);
    let i = q.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, q[parent] as Entry)) break;
      q[i] = q[parent] as Entry;
      i = parent;
    }
    q[i] = entry;
    return sequence;
  }

  private dropStale(): void {
    let head = this.queue[0];
    while (head !== undefined && !head.action.isCurrent(head.sequence)) {
      this.pop();
      head = this.queue[0];
    }
  }

  private pop(): void {
    const q = this.queue;
    const last = q.pop() as Entry;
    if (q.length === 0) return;
    let i = 0;
    const n = q.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && before(q[r] as Entry, q[l] as Entry) ? r : l;
      if (!before(q[child] as Entry, last)) break;
      q[i] = q[child] as Entry;
      i = child;
    }
    q[i] = last;
  }
}

interface Entry {
  readonly dueMs: number;
  readonly sequence: number;
  readonly action: ClockAction<unknown>;
}

function before(a: Entry, b: Entry): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.sequence < b.sequence);
}

class ClockAction<T> extends Subscription implements SchedulerAction<T> {
  private state: T | undefined;
  /** Sequence of the queue entry that is live for this action; 0 when not queued. */
  private queued = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly work: (this: SchedulerAction<T>, state?: T) => void,
  ) {
    super();
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.state = state;
    this.queued = this.clock.enqueue(this as ClockAction<unknown>, delay);
    return this;
  }

  isCurrent(sequence: number): boolean {
    return !this.closed && this.queued === sequence;
  }

  run(): void {
    this.queued = 0;
    let ok = false;
    try {
      this.work.call(this, this.state);
      ok = true;
    } finally {
      // Work that threw is disposed even if it had rescheduled itself, as RxJS's own actions are.
      if (!ok || this.queued === 0) this.unsubscribe();
    }
  }
}
