import { UsageError } from '../domain/errors.js';
import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { VirtualClock } from './virtualClock.js';

/**
 * A scheduler for playing history back in real time: its clock starts at `startMs` (a time in the data) and
 * runs `speed` times faster than the wall clock. Handing it to the live pipeline instead of `asyncScheduler`
 * is all it takes to watch recorded data go through exactly as it would live.
 *
 * It is a VirtualClock pumped by one wall-clock timer: when the wall clock reaches the next due action, every
 * action due by then runs in clock-time order, each seeing `now()` = its own due time. So however late a
 * timer fires (a busy machine, 1 ms timer granularity at high speed), a trade due before a candle's close
 * timer is always delivered before it, and the output equals a virtual-time replay of the same data.
 * Between actions `now()` reads the time of the last action run.
 */
export class ReplayClock implements SchedulerLike {
  private readonly clock: VirtualClock;
  private readonly wallStartMs: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerDueMs = Number.POSITIVE_INFINITY;

  constructor(
    private readonly startMs: number,
    private readonly speed = 1,
    private readonly wallNow: () => number = Date.now,
  ) {
    if (!(speed > 0) || !Number.isFinite(speed))
      throw new UsageError(`ReplayClock: speed must be > 0, got ${speed}`);
    this.clock = new VirtualClock(startMs);
    this.wallStartMs = wallNow();
  }

  now(): number {
    return this.clock.now();
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    const subscription = this.clock.schedule(work, delay, state);
    this.arm();
    return subscription;
  }

  /** Clock time the wall clock has reached. */
  private target(): number {
    return this.startMs + (this.wallNow() - this.wallStartMs) * this.speed;
  }

  private arm(): void {
    const due = this.clock.nextDueMs();
    if (due === undefined || due >= this.timerDueMs) return;
    clearTimeout(this.timer);
    this.timerDueMs = due;
    this.timer = setTimeout(() => this.pump(), Math.max(0, (due - this.target()) / this.speed));
  }

  private pump(): void {
    this.timer = undefined;
    this.timerDueMs = Number.POSITIVE_INFINITY;
    try {
      this.clock.advanceTo(this.target());
    } finally {
      this.arm();
    }
  }
}
