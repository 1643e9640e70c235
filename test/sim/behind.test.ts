import type { Duplex } from 'node:stream';
import { BehindWarning } from '../../src/sim/behind.js';
import { ManualClock, sampleEthTrades, startSim, stopAll, TestClient } from './support.js';

/**
 * The simulator when its consumer cannot keep up (issue 9, point 7: at 100 000× the embedded simulator
 * froze the process for ~47 s and no candle came out). However fast its clock runs, a 10 ms tick generates
 * at most 2 000 trades per instrument, so the process keeps answering; the replay then lags its clock and
 * the simulator says so, as it does when a client's send buffer grows: one line, at most every 10 s.
 */

afterEach(stopAll);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('BehindWarning', () => {
  it('says it once per interval and counts what it held back', () => {
    const lines: string[] = [];
    let wall = 0;
    const w = new BehindWarning(
      (l) => lines.push(l),
      10_000,
      () => wall,
    );
    w.note(() => 'slow');
    wall = 5_000;
    w.note(() => 'slow');
    w.note(() => 'slow');
    expect(lines).toEqual(['slow']);
    wall = 10_000;
    w.note(() => 'slower');
    expect(lines).toEqual(['slow', 'slower (and 2 more times since the last warning)']);
  });
});

describe('OkxSimulator behind its clock', () => {
  it('generates at most 2 000 trades a tick, says once that the replay lags, and catches up', async () => {
    const clock = new ManualClock();
    const trades = await sampleEthTrades();
    const warnings: string[] = [];
    const { sim } = await startSim({
      now: clock.now,
      loop: false,
      instruments: [{ instId: 'ETH-USDT', trades }],
      warn: (l) => warnings.push(l),
    });
    clock.advance(3_600_000); // the whole recording (11 minutes) is due at once
    await sleep(25);
    const afterOneTickOrTwo = sim.groundTruth('ETH-USDT').length;
    expect(afterOneTickOrTwo).toBeGreaterThan(1);
    expect(afterOneTickOrTwo).toBeLessThan(trades.length);
    // A market that lags keeps REST consistent with what it generated: no candle past its last trade.
    const deadline = Date.now() + 20_000;
    while (sim.groundTruth('ETH-USDT').length < trades.length && Date.now() < deadline) await sleep(10);
    expect(sim.groundTruth('ETH-USDT')).toHaveLength(trades.length);
    const lags = warnings.filter((l) => l.startsWith('the replay lags its clock: ETH-USDT'));
    expect(lags).toEqual([
      expect.stringMatching(
        /^the replay lags its clock: ETH-USDT trades are generated [\d.]+ s \(simulated\) after their time, more than 2000 trades are due every 10 ms: lower --speed$/,
      ),
    ]);
  });

  it('warns, once, when a client reads slower than the replay sends', async () => {
    const clock = new ManualClock();
    const warnings: string[] = [];
    const { address } = await startSim({
      now: clock.now,
      instruments: [{ instId: 'ETH-USDT', trades: await sampleEthTrades() }],
      warn: (l) => warnings.push(l),
      rateLimits: false,
    });
    const c = await TestClient.connect(address.wsPublicUrl);
    c.subscribe([{ channel: 'trades', instId: 'ETH-USDT' }]);
    await c.next((m) => m.event === 'subscribe');
    // The client stops reading: what the simulator sends piles up in its send buffer.
    (c.ws as unknown as { _socket: Duplex })._socket.pause();
    const deadline = Date.now() + 20_000;
    while (!warnings.some((l) => l.includes('reads slower')) && Date.now() < deadline) {
      clock.advance(60_000);
      await sleep(10);
    }
    for (let i = 0; i < 20; i++) {
      clock.advance(60_000);
      await sleep(10);
    }
    const slow = warnings.filter((l) => l.includes('reads slower'));
    expect(slow).toEqual([
      expect.stringMatching(
        /^conn \w+: the client reads slower than the replay sends \([\d.]+ MB waiting; closed with 4005 at 8 MB\): lower --speed$/,
      ),
    ]);
  }, 30_000);
});
