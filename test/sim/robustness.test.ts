import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { Prng } from '../../src/sim/prng.js';
import { OkxSimulator } from '../../src/sim/okxSimulator.js';
import { TestClient, sampleEthTrades, sleep, startSim, stopAll, trade } from './support.js';

afterEach(stopAll);

/** Sends raw bytes to the server and collects whatever comes back until it closes the socket. */
function raw(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let out = '';
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('close', () => resolve(out));
    socket.on('error', () => resolve(out));
    setTimeout(() => socket.destroy(), 1000);
  });
}

describe('a simulator that never crashes on client garbage', () => {
  it('answers random junk requests with errors, keeps the connection, and keeps serving', async () => {
    const { sim, address } = await startSim({
      instruments: [{ instId: 'ETH-USDT', trades: await sampleEthTrades() }],
      speed: 50,
      rateLimits: false, // this test opens connections faster than OKX allows
    });
    const rng = new Prng(123);
    const junk = (): string => {
      const pieces = [
        '{',
        '}',
        '[',
        ']',
        '"op"',
        '"args"',
        ':',
        ',',
        '"subscribe"',
        'null',
        '1e999',
        '"\\u0000"',
        '{"channel":',
        '"trades"',
      ];
      return Array.from({ length: rng.int(0, 12) }, () => rng.pick(pieces)).join('');
    };
    const c = await TestClient.connect(address.wsPublicUrl);
    const shapes: unknown[] = [
      { op: 'subscribe', args: [null] },
      { op: 'subscribe', args: [[]] },
      { op: 'subscribe', args: [{ channel: '', instId: '' }] },
      { op: 'subscribe', args: [{ channel: 'trades', instId: 'ETH-USDT', extra: { deep: [1] } }] },
      { op: 7, args: [] },
      { op: 'subscribe', args: 'trades' },
      { id: 5, op: 'subscribe', args: [] },
      { op: 'subscribe', args: [{ channel: 'trades', instId: 'ETH-USDT' }], id: null },
      { op: 'unsubscribe', args: [{ channel: 'candle1m', instId: 'ETH-USDT' }] },
      { op: '__proto__', args: [] },
      { constructor: 'x' },
    ];
    const sent = [
      ...shapes.map((s) => JSON.stringify(s)),
      ...Array.from({ length: 200 }, junk),
      '',
      ' ',
      'PING',
      'pong',
    ];
    for (const text of sent) c.send(text);
    await c.until(
      () => c.json((m) => m.event === 'error' || m.event === 'unsubscribe').length === sent.length,
      5000,
      'an answer to each',
    );
    expect(c.ws.readyState).toBe(WebSocket.OPEN);

    // Protocol-level abuse: invalid UTF-8 in a text frame (the server must close with 1007, not crash)...
    const bad = await TestClient.connect(address.wsPublicUrl);
    bad.ws.send(Buffer.from([0xc3, 0x28]), { binary: false });
    expect((await bad.closed).code).toBe(1007);
    // ...a frame over the size limit (1009)...
    const big = await TestClient.connect(address.wsPublicUrl);
    big.send('x'.repeat(2 * 1024 * 1024));
    expect((await big.closed).code).toBe(1009);
    // ...and HTTP that is not HTTP, or a broken upgrade.
    expect(await raw(address.port, 'GARBAGE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect(
      await raw(
        address.port,
        'GET /ws/v5/public HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ),
    ).toMatch(/^HTTP\/1\.1 400/);

    c.subscribe([{ channel: 'trades', instId: 'ETH-USDT' }], 'ok');
    await c.next((m) => m.id === 'ok' && m.event === 'subscribe');
    await c.until(() => c.pushes('trades').length > 0, 5000, 'trades');
    expect(sim.stats().pushes).toBeGreaterThan(0);
  });

  it('stops idempotently, closing connections and refusing new ones', async () => {
    const { sim, address } = await startSim({
      instruments: [{ instId: 'ETH-USDT', trades: [trade(0, 1, 1, 'buy')] }],
    });
    const c = await TestClient.connect(address.wsPublicUrl);
    await Promise.all([sim.stop(), sim.stop()]);
    await sim.stop();
    expect((await c.closed).code).toBe(1006);
    await expect(TestClient.connect(address.wsPublicUrl)).rejects.toThrow(/ECONNREFUSED/);
    await expect(fetch(`${address.restUrl}/api/v5/public/time`)).rejects.toThrow();
  });

  it('logs connections and faults to a pino logger or a callback', async () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (d: Buffer) => lines.push(...d.toString().trim().split('\n')));
    const { sim, address } = await startSim({
      instruments: [{ instId: 'ETH-USDT', trades: [trade(0, 1, 1, 'buy')] }],
      logger: pino(out),
    });
    const c = await TestClient.connect(address.wsPublicUrl);
    await sleep(20);
    sim.dropConnections();
    await c.closed;
    await sleep(20);
    const messages = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^listening on 127\.0\.0\.1:\d+: ETH-USDT$/),
        expect.stringMatching(/^conn [0-9a-f]{8}: open on \/ws\/v5\/public$/),
        'fault: dropped every connection',
      ]),
    );

    const seen: string[] = [];
    const other = new OkxSimulator({
      instruments: [{ instId: 'ETH-USDT', trades: [trade(0, 1, 1, 'buy')] }],
      logger: (l) => seen.push(l),
    });
    await other.start();
    await other.stop();
    expect(seen[0]).toMatch(/^listening on /);
  });

  it.each([
    [{ instruments: [] }, /at least one instrument/],
    [{ instruments: [{ instId: 'eth_usdt', trades: [] }] }, /"eth_usdt" is not an OKX instrument id/],
    [
      {
        instruments: [
          { instId: 'A-B', trades: [] },
          { instId: 'A-B', trades: [] },
        ],
      },
      /A-B is given twice/,
    ],
    [{ instruments: [{ instId: 'A-B', trades: [] }], speed: 0 }, /speed must be > 0/],
    [
      { instruments: [{ instId: 'A-B', trades: [] }], faults: { garbageRate: 1.5 } },
      /garbageRate must be in \[0, 1\]/,
    ],
    [
      { instruments: [{ instId: 'A-B', trades: [] }], historyTradesLimit: -1 },
      /historyTradesLimit must be an integer/,
    ],
  ])('refuses bad options %#', (options, message) => {
    expect(() => new OkxSimulator(options as ConstructorParameters<typeof OkxSimulator>[0])).toThrow(message);
  });

  it('serves an instrument without trades (empty data) without spinning', async () => {
    const { sim, address } = await startSim({ instruments: [{ instId: 'ETH-USDT', trades: [] }] });
    await sleep(50);
    expect(sim.groundTruth('ETH-USDT')).toEqual([]);
    const r = await fetch(`${address.restUrl}/api/v5/market/candles?instId=ETH-USDT`);
    expect(await r.json()).toEqual({ code: '0', msg: '', data: [] });
    expect(() => sim.groundTruth('BTC-USDT')).toThrow(/no instrument BTC-USDT/);
  });
});
