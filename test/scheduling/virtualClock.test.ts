import { interval, take, type SchedulerAction } from 'rxjs';
import { VirtualClock } from '../../src/scheduling/virtualClock.js';

/** Work that records `label@now` into `log` each time it runs. */
function recorder(clock: VirtualClock, log: string[], label: string) {
  return function (this: SchedulerAction<unknown>): void {
    log.push(`${label}@${clock.now()}`);
  };
}

describe('VirtualClock', () => {
  describe('ordering', () => {
    it('runs due actions in time order, ties in scheduling order', () => {
      const clock = new VirtualClock();
      const log: string[] = [];
      clock.schedule(recorder(clock, log, 'c'), 30);
      clock.schedule(recorder(clock, log, 'a1'), 10);
      clock.schedule(recorder(clock, log, 'b1'), 20);
      clock.schedule(recorder(clock, log, 'b2'), 20);
      clock.schedule(recorder(clock, log, 'a2'), 10);
      clock.schedule(recorder(clock, log, 'z'), 0);
      clock.schedule(recorder(clock, log, 'b3'), 20);

      clock.advanceTo(100);

      expect(log).toEqual(['z@0', 'a1@10', 'a2@10', 'b1@20', 'b2@20', 'b3@20', 'c@30']);
    });

    it('keeps that order for many actions (a stable sort by due time)', () => {
      const clock = new VirtualClock();
      const ran: number[] = [];
      const delays = Array.from({ length: 200 }, (_, n) => (n * 37) % 23);
      delays.forEach((delay, n) => clock.schedule(() => ran.push(n), delay));

      clock.advanceTo(1_000);

      const expected = delays
        .map((delay, n) => ({ delay, n }))
        .sort((x, y) => x.delay - y.delay || x.n - y.n);
      expect(ran).toEqual(expected.map((x) => x.n));
    });

    it('runs an action scheduled from inside work for the same instant after those already due then', () => {
      const clock = new VirtualClock();
      const log: string[] = [];
      clock.schedule(function () {
        log.push(`first@${clock.now()}`);
        clock.schedule(recorder(clock, log, 'spawned'), 0);
      }, 10);
      clock.schedule(recorder(clock, log, 'second'), 10);

      clock.advanceTo(10);

      expect(log).toEqual(['first@10', 'second@10', 'spawned@10']);
    });
  });

  describe('advanceTo', () => {
    it('runs the actions due at or before the target (inclusive), leaves the rest, and sets the clock', () => {
      const clock = new VirtualClock(1_000);
      const log: string[] = [];
      clock.schedule(recorder(clock, log, 'a'), 50);
      clock.schedule(recorder(clock, log, 'b'), 100);
      clock.schedule(recorder(clock, log, 'c'), 101);
      expect(clock.now()).toBe(1_000);
      expect(clock.pending).toBe(3);
      expect(clock.nextDueMs()).toBe(1_050);

      clock.advanceTo(1_100);

      expect(log).toEqual(['a@1050', 'b@1100']);
      expect(clock.now()).toBe(1_100);
      expect(clock.pending).toBe(1);
      expect(clock.nextDueMs()).toBe(1_101);

      clock.advanceTo(1_101);
      expect(log).toEqual(['a@1050', 'b@1100', 'c@1101']);
      expect(clock.pending).toBe(0);
      expect(clock.nextDueMs()).toBeUndefined();
    });

    it('moves the clock even when nothing is due', () => {
      const clock = new VirtualClock();
      clock.advanceTo(5_000);
      expect(clock.now()).toBe(5_000);
      expect(clock.nextDueMs()).toBeUndefined();
    });

    it('never goes back', () => {
      const clock = new VirtualClock();
      const log: string[] = [];
      clock.advanceTo(100);
      clock.schedule(recorder(clock, log, 'a'), 10);

      clock.advanceTo(50);

      expect(clock.now()).toBe(100);
      expect(log).toEqual([]);
      expect(clock.nextDueMs()).toBe(110);
    });

    it('runs an action scheduled with no delay (or a negative one) on the next advance to now', () => {
      const clock = new VirtualClock(200);
      const log: string[] = [];
      clock.schedule(recorder(clock, log, 'zero'));
      clock.schedule(recorder(clock, log, 'negative'), -50);
      expect(clock.nextDueMs()).toBe(200);
      expect(log).toEqual([]);

      clock.advanceTo(clock.now());

      expect(log).toEqual(['zero@200', 'negative@200']);
    });

    it('runs actions scheduled from inside work when they fall due before the target, not after', () => {
      const clock = new VirtualClock();
      const log: string[] = [];
      clock.schedule(function () {
        log.push(`parent@${clock.now()}`);
        clock.schedule(recorder(clock, log, 'soon'), 5);
        clock.schedule(recorder(clock, log, 'later'), 500);
      }, 10);

      clock.advanceTo(100);

      expect(log).toEqual(['parent@10', 'soon@15']);
      expect(clock.nextDueMs()).toBe(510);
    });
  });

  describe('now() during an action', () => {
    it('equals the action’s due time, not the target of advanceTo', () => {
      const clock = new VirtualClock();
      const seen: number[] = [];
      const work = (): void => {
        seen.push(clock.now());
      };
      clock.schedule(work, 100);
      clock.schedule(work, 250);
      clock.schedule(work, 250);

      clock.advanceTo(1_000);

      expect(seen).toEqual([100, 250, 250]);
      expect(clock.now()).toBe(1_000);
    });
  });

  describe('rescheduling', () => {
    it('reschedules from inside work, relative to the due time, with the new state', () => {
      const clock = new VirtualClock();
      const log: string[] = [];
      const action = clock.schedule(
        function (this: SchedulerAction<number>, n?: number) {
          log.push(`tick ${n}@${clock.now()}`);
          this.schedule((n ?? 0) + 1, 10);
        },
        10,
        1,
      );

      clock.advanceTo(35);

      expect(log).toEqual(['tick 1@10', 'tick 2@20', 'tick 3@30']);
      expect(action.closed).toBe(false);
      expect(clock.pending).toBe(1);
      expect(clock.nextDueMs()).toBe(40);

      action.unsubscribe();
      clock.advanceTo(100);
      expect(log).toHaveLength(3);
      expect(clock.pending).toBe(0);
    });

    it('rescheduling from outside replaces the earlier due time', () => {
      const clock = new VirtualClock();
      const log: string[] = [];
      const action = clock.schedule(recorder(clock, log, 'a'), 10) as SchedulerAction<unknown>;

      action.schedule(undefined, 40);

      expect(clock.pending).toBe(1);
      expect(clock.nextDueMs()).toBe(40);
      clock.advanceTo(100);
      expect(log).toEqual(['a@40']);
    });

    it('disposes an action once it ran without rescheduling itself', () => {
      const clock = new VirtualClock();
      const action = clock.schedule(() => undefined, 10);
      expect(action.closed).toBe(false);

      clock.advanceTo(10);

      expect(action.closed).toBe(true);
      expect(clock.pending).toBe(0);
    });

    it('drives RxJS operators that take a scheduler (interval)', () => {
      const clock = new VirtualClock();
      const seen: string[] = [];
      let completed = false;
      interval(10, clock)
        .pipe(take(3))
        .subscribe({ next: (n) => seen.push(`${n}@${clock.now()}`), complete: () => (completed = true) });

      clock.advanceTo(25);
      expect(seen).toEqual(['0@10', '1@20']);
      expect(completed).toBe(false);

      clock.advanceTo(1_000);
      expect(seen).toEqual(['0@10', '1@20', '2@30']);
      expect(completed).toBe(true);
      expect(clock.pending).toBe(0);
    });
  });

  describe('unsubscribing', () => {
    it('an action unsubscribed before it is due never runs', () => {
      const clock = new VirtualClock();
      const log: string[] = [];
      const a = clock.schedule(recorder(clock, log, 'a'), 10);
      clock.schedule(recorder(clock, log, 'b'), 20);
      expect(clock.pending).toBe(2);

      a.unsubscribe();

      expect(clock.pending).toBe(1);
      expect(clock.nextDueMs()).toBe(20);
      clock.advanceTo(100);
      expect(log).toEqual(['b@20']);
    });

    it('an action unsubscribed by another action due at the same time never runs', () => {
      const clock = new VirtualClock();
      const log: string[] = [];
      clock.schedule(function () {
        log.push(`killer@${clock.now()}`);
        victim.unsubscribe();
      }, 10);
      const victim = clock.schedule(recorder(clock, log, 'victim'), 10);

      clock.advanceTo(10);

      expect(log).toEqual(['killer@10']);
    });

    it('an action that reschedules itself and then unsubscribes does not run again', () => {
      const clock = new VirtualClock();
      let runs = 0;
      clock.schedule(function (this: SchedulerAction<unknown>) {
        runs += 1;
        this.schedule(undefined, 10);
        this.unsubscribe();
      }, 10);

      clock.advanceTo(100);

      expect(runs).toBe(1);
      expect(clock.pending).toBe(0);
    });
  });

  describe('errors', () => {
    it('an error thrown by work propagates out of advanceTo and the action is disposed', () => {
      const clock = new VirtualClock();
      const log: string[] = [];
      const boom = new Error('boom');
      clock.schedule(recorder(clock, log, 'before'), 5);
      const failing = clock.schedule(() => {
        throw boom;
      }, 10);
      clock.schedule(recorder(clock, log, 'after'), 20);

      expect(() => clock.advanceTo(100)).toThrow(boom);

      expect(log).toEqual(['before@5']);
      expect(failing.closed).toBe(true);
      expect(clock.pending).toBe(1);
      // the clock stays usable: the rest runs on the next advance
      clock.advanceTo(100);
      expect(log).toEqual(['before@5', 'after@20']);
      expect(clock.now()).toBe(100);
    });

    it('an action that rescheduled itself and then throws is disposed too (it would fail again)', () => {
      const clock = new VirtualClock();
      const boom = new Error('boom');
      let runs = 0;
      const failing = clock.schedule(function (this: SchedulerAction<unknown>) {
        runs += 1;
        this.schedule(undefined, 10);
        throw boom;
      }, 10);

      expect(() => clock.advanceTo(15)).toThrow(boom);

      expect(runs).toBe(1);
      expect(failing.closed).toBe(true);
      expect(clock.pending).toBe(0);
      clock.advanceTo(100);
      expect(runs).toBe(1);
    });
  });
});
