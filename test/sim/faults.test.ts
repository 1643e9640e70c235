import { WebSocket } from 'ws';
import {
  ManualClock,
  TestClient,
  sampleEthTrades,
  sleep,
  startSim,
  stopAll,
  waitFor,
  type Frame,
} from './support.js';

afterEach(stopAll);

const TRADES = { channel: 'trades', instId: 'ETH-USDT' };
const TRADES_ALL = { channel: 'trades-all', instId: 'ETH-USDT' };

async function ethSim(options: Partial<Parameters<typeof startSim>[0]> = {}) {
  return startSim({
    instruments: [{ instId: 'ETH-USDT', trades: await sampleEthTrades() }],
    speed: 100,
    ...options,
  });
}

/** A frame a strict client accepts as a trades / trades-all push (every field a string, seqId an integer). */
function isValidTradePush(f: Frame, channel: string): boolean {
  if (f.binary || typeof f.json !== 'object' || f.json === null) return false;
  const m = f.json as { arg?: { channel?: unknown; instId?: unknown }; data?: unknown };
  if (
    m.arg?.channel !== channel ||
    m.arg.instId !== 'ETH-USDT' ||
    !Array.isArray(m.data) ||
    m.data.length !== 1
  ) {
    return false;
  }
  const d = m.data[0] as Record<string, unknown>;
  const strings = ['instId', 'tradeId', 'px', 'sz', 'side', 'ts'].every((k) => typeof d[k] === 'string');
  const seq = channel === 'trades' ? Number.isInteger(d.seqId) && typeof d.count === 'string' : true;
  return strings && seq && /^\d+$/.test(d.tradeId as string) && /^\d+(\.\d+)?$/.test(d.px as string);
}

function tradeIds(frames: readonly Frame[], channel: string): number[] {
  return frames
    .filter((f) => isValidTradePush(f, channel))
    .map((f) => Number((f.json as { data: { tradeId: string }[] }).data[0]?.tradeId));
}

describe('fault injection', () => {
  it('drop: terminates every connection every dropEverySec, without a close frame', async () => {
    // Taken before the simulator starts: drops fall due every 300 ms of its clock from its start, so the
    // first comes at least 300 ms after this (taken after the connects, slow connects on a busy machine ate
    // into the bound).
    const started = Date.now();
    const { sim, address } = await ethSim({ faults: { dropEverySec: 0.3 } });
    const pub = await TestClient.connect(address.wsPublicUrl);
    const biz = await TestClient.connect(address.wsBusinessUrl);
    pub.subscribe([TRADES]);
    expect((await pub.closed).code).toBe(1006); // abnormal closure: the TCP connection just went away
    expect((await biz.closed).code).toBe(1006);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(sim.stats().drops).toBeGreaterThanOrEqual(1);
    // The server is fine: a new connection works.
    await sleep(50);
    const again = await TestClient.connect(address.wsPublicUrl);
    again.subscribe([TRADES]);
    await again.next((m) => m.event === 'subscribe');
  });

  it('drop on demand: dropConnections()', async () => {
    const { sim, address } = await ethSim();
    const c = await TestClient.connect(address.wsPublicUrl);
    await waitFor(() => sim.stats().connections === 1);
    sim.dropConnections();
    expect((await c.closed).code).toBe(1006);
    await waitFor(() => sim.stats().connections === 0);
    expect(sim.stats().drops).toBe(1);
  });

  it('stall: sends nothing (no pushes, no pong) for stallForSec, without closing, then carries on', async () => {
    const clock = new ManualClock();
    const { sim, address } = await ethSim({
      now: clock.now,
      speed: 10,
      faults: { stallEverySec: 40, stallForSec: 35 },
    });
    const c = await TestClient.connect(address.wsPublicUrl);
    c.subscribe([TRADES]);
    await c.next((m) => m.event === 'subscribe');
    const step = async (ms: number): Promise<void> => {
      clock.advance(ms);
      await sleep(15);
    };
    for (let t = 0; t < 39_000; t += 1000) await step(1000);
    expect(c.pushes('trades').length).toBeGreaterThan(10);

    await step(1000); // 40 s: the stall begins
    await sleep(100); // let pushes sent before it arrive
    const atStall = c.frames.length;
    const generatedAtStall = sim.groundTruth('ETH-USDT').length;
    for (let t = 0; t < 34_000; t += 1000) {
      if (t % 10_000 === 0) c.send('ping'); // unanswered, but it tells the server the client is alive
      await step(1000);
    }
    expect(c.frames.length).toBe(atStall);
    expect(sim.groundTruth('ETH-USDT').length).toBeGreaterThan(generatedAtStall + 100); // trades went on
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    expect(sim.stats().stalls).toBe(1);

    await step(1500); // 75.5 s: over
    c.send('ping');
    await c.until(() => c.frames.slice(atStall).some((f) => f.text === 'pong'), 2000, 'pong after the stall');
    await step(1000);
    await c.until(
      () => c.pushes('trades').length > 0 && c.frames.length > atStall + 2,
      2000,
      'pushes after the stall',
    );
  });

  it('notice: sends 64008 on every open connection, closes it noticeGraceSec later; newer connections stay', async () => {
    const clock = new ManualClock();
    const { sim, address } = await ethSim({
      now: clock.now,
      faults: { noticeEverySec: 5, noticeGraceSec: 1 },
    });
    const old = await TestClient.connect(address.wsPublicUrl);
    old.subscribe([TRADES]);
    await old.next((m) => m.event === 'subscribe');
    clock.advance(5000);
    const notice = await old.next((m) => m.event === 'notice');
    expect(notice).toEqual({
      event: 'notice',
      code: '64008',
      msg: 'The connection will soon be closed for a service upgrade. Please reconnect.',
      connId: expect.stringMatching(/^[0-9a-f]{8}$/),
    });
    // As OKX advises: open a new connection and resubscribe while the old one still works.
    const fresh = await TestClient.connect(address.wsPublicUrl, clock.now);
    fresh.subscribe([TRADES]);
    await fresh.next((m) => m.event === 'subscribe');
    await sleep(30);
    expect(old.ws.readyState).toBe(WebSocket.OPEN);
    clock.advance(1000);
    expect(await old.closed).toEqual({ code: 1001, reason: 'Service upgrade' });
    clock.advance(2000);
    await sleep(50);
    expect(fresh.ws.readyState).toBe(WebSocket.OPEN);
    expect(sim.stats().notices).toBe(1);
  });

  it('garbage: precedes pushes with malformed frames of several kinds; the real pushes are all there', async () => {
    const { sim, address } = await ethSim({ speed: 200, faults: { garbageRate: 0.3, seed: 5 } });
    const c = await TestClient.connect(address.wsBusinessUrl);
    c.subscribe([TRADES_ALL]);
    await c.next((m) => m.event === 'subscribe');
    await c.until(() => tradeIds(c.frames, 'trades-all').length >= 400, 10_000, '400 trades');
    const ids = tradeIds(c.frames, 'trades-all');
    expect(ids).toEqual(ids.map((_, i) => (ids[0] as number) + i)); // nothing lost among the junk
    const junk = c.frames.filter(
      (f) => !isValidTradePush(f, 'trades-all') && (f.json as { event?: string })?.event !== 'subscribe',
    );
    expect(junk.length).toBeGreaterThan(60);
    expect(junk.length).toBeLessThan(200);
    await sleep(50);
    const stats = sim.stats();
    expect(stats.garbageFrames).toBeGreaterThanOrEqual(junk.length);
    expect(stats.pushes).toBeGreaterThanOrEqual(ids.length);
    // Several kinds: binary, not JSON, JSON of the wrong shape.
    expect(junk.some((f) => f.binary)).toBe(true);
    expect(junk.some((f) => !f.binary && f.json === undefined)).toBe(true);
    expect(junk.some((f) => f.json !== undefined)).toBe(true);
    // The server still answers requests and pings correctly.
    c.send('ping');
    await c.until(() => c.frames.some((f) => f.text === 'pong'), 2000, 'pong');
  });

  it('duplicates: sends some trades pushes twice, identical; deduplicated they cover the ground truth', async () => {
    const { sim, address } = await ethSim({ speed: 200, faults: { duplicateRate: 0.25, seed: 3 } });
    const c = await TestClient.connect(address.wsPublicUrl);
    c.subscribe([TRADES]);
    await c.next((m) => m.event === 'subscribe');
    await c.until(() => c.pushes('trades').length >= 400, 10_000, '400 pushes');
    const texts = c.frames.filter((f) => isValidTradePush(f, 'trades')).map((f) => f.text);
    const repeats = texts.filter((t, i) => i > 0 && t === texts[i - 1]).length;
    expect(repeats).toBeGreaterThan(50);
    expect(repeats).toBeLessThan(160);
    const unique = texts.filter((t, i) => i === 0 || t !== texts[i - 1]);
    const seq = unique.map((t) => (JSON.parse(t) as { data: { seqId: number }[] }).data[0]?.seqId as number);
    expect(seq).toEqual(seq.map((_, i) => (seq[0] as number) + i));
    const covered = unique.flatMap((t) => {
      const d = (JSON.parse(t) as { data: { tradeId: string; count: string }[] }).data[0] as {
        tradeId: string;
        count: string;
      };
      return Array.from({ length: Number(d.count) }, (_, i) => Number(d.tradeId) - Number(d.count) + 1 + i);
    });
    const truth = sim.groundTruth('ETH-USDT').map((t) => Number(t.tradeId));
    const from = truth.indexOf(covered[0] as number);
    expect(covered).toEqual(truth.slice(from, from + covered.length));
    await sleep(50);
    expect(sim.stats().duplicates).toBeGreaterThanOrEqual(repeats);
  });
});
