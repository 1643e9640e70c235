import { WebSocket } from 'ws';
import {
  ManualClock,
  TestClient,
  sampleEthTrades,
  sleep,
  startSim,
  stopAll,
  trade,
  waitFor,
} from './support.js';

afterEach(stopAll);

const ETH = { channel: 'trades', instId: 'ETH-USDT' };

async function quietSim(extra: Parameters<typeof startSim>[0] extends infer O ? Partial<O> : never = {}) {
  // Two trades an hour apart: nothing happens unless a test moves the clock.
  return startSim({
    instruments: [{ instId: 'ETH-USDT', trades: [trade(0, 100, 1, 'buy'), trade(3_600_000, 101, 1, 'buy')] }],
    loop: false,
    ...extra,
  });
}

describe('OKX WebSocket protocol: subscribe, unsubscribe, errors', () => {
  it('acknowledges each arg once, echoing id and the arg, with the connection id', async () => {
    const { address } = await quietSim();
    const c = await TestClient.connect(address.wsPublicUrl);
    c.subscribe([ETH, { channel: 'tickers', instId: 'ETH-USDT' }], 'abc123');
    await c.until(() => c.json((m) => m.event === 'subscribe').length === 2);
    const acks = c.json((m) => m.event === 'subscribe');
    expect(acks).toEqual([
      { id: 'abc123', event: 'subscribe', arg: ETH, connId: expect.stringMatching(/^[0-9a-f]{8}$/) },
      {
        id: 'abc123',
        event: 'subscribe',
        arg: { channel: 'tickers', instId: 'ETH-USDT' },
        connId: acks[0]?.connId,
      },
    ]);

    c.send({ op: 'unsubscribe', args: [ETH] });
    const unsub = await c.next((m) => m.event === 'unsubscribe');
    expect(unsub).toEqual({ event: 'unsubscribe', arg: ETH, connId: acks[0]?.connId });
    expect('id' in unsub).toBe(false);
  });

  it.each([
    ['not JSON', 'hello'],
    ['truncated JSON', '{"op":"subscribe","args":[{"channel":"trades"'],
    ['a JSON array', '[1,2]'],
    ['a misspelled top-level key', '{"op":"subscribe","arg":[{"channel":"trades","instId":"ETH-USDT"}]}'],
    ['an extra top-level key', '{"op":"subscribe","args":[{"channel":"trades","instId":"ETH-USDT"}],"x":1}'],
    ['a misspelled arg key', '{"op":"subscribe","args":[{"chanel":"trades","instId":"ETH-USDT"}]}'],
    ['a missing instId', '{"op":"subscribe","args":[{"channel":"trades"}]}'],
    ['empty args', '{"op":"subscribe","args":[]}'],
    ['args not an array', '{"op":"subscribe","args":{"channel":"trades","instId":"ETH-USDT"}}'],
    ['a number for instId', '{"op":"subscribe","args":[{"channel":"trades","instId":5}]}'],
    ['a missing op', '{"args":[{"channel":"trades","instId":"ETH-USDT"}]}'],
    [
      'an id that is too long',
      `{"id":"${'a'.repeat(33)}","op":"subscribe","args":[{"channel":"trades","instId":"ETH-USDT"}]}`,
    ],
    ['an id with symbols', '{"id":"a-b","op":"subscribe","args":[{"channel":"trades","instId":"ETH-USDT"}]}'],
  ])('answers %s with 60012 and keeps the connection open', async (_what, text) => {
    const { address } = await quietSim();
    const c = await TestClient.connect(address.wsPublicUrl);
    c.send(text);
    const err = await c.next((m) => m.event === 'error');
    expect(err).toEqual({
      event: 'error',
      code: '60012',
      msg: expect.stringMatching(/^Invalid request: /),
      connId: expect.any(String),
    });
    // Still usable.
    c.subscribe([ETH]);
    await c.next((m) => m.event === 'subscribe');
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('echoes a valid id on errors, and answers a binary frame and an over-64 KB request with 60012', async () => {
    const { address } = await quietSim();
    const c = await TestClient.connect(address.wsPublicUrl);
    c.send('{"id":"77","op":"subscribe","args":[{"channel":"trades","instID":"ETH-USDT"}]}');
    expect(await c.next((m) => m.event === 'error')).toMatchObject({ id: '77', code: '60012' });
    c.ws.send(Buffer.from([0xff, 0x00, 0x13]), { binary: true });
    expect(await c.next((m) => m.event === 'error')).toMatchObject({ code: '60012' });
    c.send({ op: 'subscribe', args: Array.from({ length: 2000 }, () => ETH) });
    expect(await c.next((m) => m.event === 'error')).toMatchObject({
      code: '60012',
      msg: expect.stringMatching(/larger than 64 KB/),
    });
  });

  it.each([
    ['an unknown instId', 'public', { channel: 'trades', instId: 'FOO-BAR' }],
    ['an unknown channel', 'public', { channel: 'trade', instId: 'ETH-USDT' }],
    ['a candle channel on /public', 'public', { channel: 'candle1m', instId: 'ETH-USDT' }],
    ['trades-all on /public', 'public', { channel: 'trades-all', instId: 'ETH-USDT' }],
    ['trades on /business', 'business', { channel: 'trades', instId: 'ETH-USDT' }],
    ['tickers on /business', 'business', { channel: 'tickers', instId: 'ETH-USDT' }],
    ['a lower-case bar (candle1h)', 'business', { channel: 'candle1h', instId: 'ETH-USDT' }],
  ])('answers %s with 60018 naming channel and instId', async (_what, path, arg) => {
    const { address } = await quietSim();
    const c = await TestClient.connect(path === 'public' ? address.wsPublicUrl : address.wsBusinessUrl);
    c.subscribe([arg], 'q1');
    const err = await c.next((m) => m.event === 'error');
    expect(err).toEqual({
      id: 'q1',
      event: 'error',
      code: '60018',
      msg: `Wrong URL or channel:${arg.channel},instId:${arg.instId} doesn't exist. Please use the correct URL, channel and parameters referring to API document.`,
      connId: expect.any(String),
    });
    expect(c.json((m) => m.event === 'subscribe')).toEqual([]);
  });

  it('acks the good args and refuses the bad ones of one request', async () => {
    const { address } = await quietSim();
    const c = await TestClient.connect(address.wsBusinessUrl);
    c.subscribe([
      { channel: 'candle1m', instId: 'ETH-USDT' },
      { channel: 'candle1m', instId: 'NOPE-USDT' },
      { channel: 'trades-all', instId: 'ETH-USDT' },
    ]);
    await c.until(() => c.json((m) => m.event !== undefined).length === 3);
    expect(c.json((m) => m.event !== undefined).map((m) => [m.event, m.code ?? m.arg])).toEqual([
      ['subscribe', { channel: 'candle1m', instId: 'ETH-USDT' }],
      ['error', '60018'],
      ['subscribe', { channel: 'trades-all', instId: 'ETH-USDT' }],
    ]);
  });

  it('answers an unknown op with 60019', async () => {
    const { address } = await quietSim();
    const c = await TestClient.connect(address.wsPublicUrl);
    c.send({ id: '9', op: 'subscribes', args: [ETH] });
    expect(await c.next((m) => m.event === 'error')).toEqual({
      id: '9',
      event: 'error',
      code: '60019',
      msg: 'Invalid OP: subscribes',
      connId: expect.any(String),
    });
  });

  it('allows 480 subscribe/unsubscribe requests per connection per hour, then answers 60014', async () => {
    const clock = new ManualClock();
    // The idle close (4004) would otherwise race the request sent after the clock jumps an hour.
    const { sim, address } = await quietSim({ now: clock.now, idleCloseMs: 10 * 3_600_000 });
    const c = await TestClient.connect(address.wsPublicUrl);
    for (let i = 0; i < 481; i++) c.send({ op: i % 2 === 0 ? 'subscribe' : 'unsubscribe', args: [ETH] });
    const err = await c.next((m) => m.code === '60014');
    expect(err).toEqual({
      event: 'error',
      code: '60014',
      msg: 'Requests too frequent.',
      connId: expect.any(String),
    });
    expect(c.json((m) => m.event === 'subscribe' || m.event === 'unsubscribe')).toHaveLength(480);
    expect(sim.stats().rateLimited).toBe(1);
    // An hour later the window has moved on.
    clock.advance(3_600_000);
    c.subscribe([ETH], 'later');
    expect(await c.next((m) => m.id === 'later')).toMatchObject({ event: 'subscribe' });
  });

  it('answers the text ping with pong, also in the middle of a fast stream of pushes', async () => {
    const { sim, address } = await startSim({
      instruments: [{ instId: 'ETH-USDT', trades: await sampleEthTrades() }],
      speed: 200,
    });
    const c = await TestClient.connect(address.wsPublicUrl);
    c.subscribe([ETH]);
    await c.until(() => c.pushes('trades').length >= 50, 5000, 'trades');
    for (let i = 0; i < 5; i++) {
      const before = c.frames.length;
      c.send('ping');
      await c.until(() => c.frames.slice(before).some((f) => f.text === 'pong'), 2000, 'pong');
      // Pushes kept coming around the pong.
      const pushesBefore = c.pushes('trades').length;
      await c.until(() => c.pushes('trades').length > pushesBefore, 2000, 'more trades');
    }
    expect(c.frames.filter((f) => f.text === 'pong')).toHaveLength(5);
    expect(sim.stats().pushes).toBeGreaterThan(50);
  });

  it('closes with 4004 a connection that subscribes to nothing within idleCloseMs, even if it pings', async () => {
    const { address } = await quietSim({ idleCloseMs: 300 });
    const c = await TestClient.connect(address.wsPublicUrl);
    const started = Date.now();
    const pinger = setInterval(() => c.ws.readyState === WebSocket.OPEN && c.send('ping'), 50);
    const closed = await c.closed;
    clearInterval(pinger);
    expect(closed).toEqual({ code: 4004, reason: 'No data received in 30s.' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('closes with 4004 a subscribed connection with nothing pushed for idleCloseMs; a ping keeps it open', async () => {
    const clock = new ManualClock();
    const { address } = await quietSim({ idleCloseMs: 30_000, now: clock.now });
    const pinging = await TestClient.connect(address.wsPublicUrl);
    const silent = await TestClient.connect(address.wsPublicUrl);
    for (const c of [pinging, silent]) {
      c.subscribe([ETH]);
      await c.next((m) => m.event === 'subscribe');
    }
    for (let s = 0; s < 50; s++) {
      clock.advance(1000);
      if (s % 20 === 0) pinging.send('ping');
      await sleep(15);
    }
    expect(await silent.closed).toEqual({ code: 4004, reason: 'No data received in 30s.' });
    expect(pinging.ws.readyState).toBe(WebSocket.OPEN);
    expect(pinging.frames.filter((f) => f.text === 'pong')).toHaveLength(3);
  });

  it('refuses more than 3 new connections per second from one IP (HTTP 429 on upgrade)', async () => {
    const clock = new ManualClock();
    const { sim, address } = await quietSim({ now: clock.now });
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => TestClient.connect(address.wsPublicUrl)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
    ).toEqual(['Error: HTTP 429', 'Error: HTTP 429']);
    expect(sim.stats().rateLimited).toBe(2);
    clock.advance(1000);
    await expect(TestClient.connect(address.wsBusinessUrl)).resolves.toBeInstanceOf(TestClient);
    await waitFor(() => sim.stats().connections === 4);
  });

  it('refuses WebSocket paths OKX does not have', async () => {
    const { address } = await quietSim();
    await expect(TestClient.connect(address.wsPublicUrl.replace('public', 'private'))).rejects.toThrow(
      'HTTP 404',
    );
  });
});
