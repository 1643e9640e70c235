import { ReplayClock } from '../../src/scheduling/replayClock.js';

describe('ReplayClock', () => {
  it('runs actions in clock-time order even when the wall clock jumps past several of them', async () => {
    let wall = 1_000;
    const clock = new ReplayClock(50_000, 100, () => wall);
    const ran: [string, number][] = [];
    clock.schedule(() => ran.push(['close timer', clock.now()]), 2_000);
    clock.schedule(() => ran.push(['trade', clock.now()]), 1_999);
    clock.schedule(() => ran.push(['early', clock.now()]), 10);
    wall += 1_000; // the machine stalled: 100 s of clock time passed at once
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ran).toEqual([
      ['early', 50_010],
      ['trade', 51_999],
      ['close timer', 52_000],
    ]);
    expect(clock.now()).toBe(150_000);
  });

  it('waits in wall time for the next action: speed × faster than real time', async () => {
    const clock = new ReplayClock(0, 1_000);
    const t0 = Date.now();
    await new Promise<void>((resolve) => clock.schedule(() => resolve(), 60_000)); // one clock minute
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(55);
    expect(waited).toBeLessThan(2_000);
    expect(clock.now()).toBeGreaterThanOrEqual(60_000);
  });

  it('does not run an unsubscribed action, and refuses a bad speed', async () => {
    const clock = new ReplayClock(0, 1_000);
    let ran = false;
    clock.schedule(() => (ran = true), 10).unsubscribe();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ran).toBe(false);
    expect(() => new ReplayClock(0, 0)).toThrow(/speed must be > 0/);
  });
});
