import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Subscription } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Trade } from '../../src/domain/trade.js';
import { RecordingLogger } from '../../src/infra/logger.js';
import { okxTrades, type OkxFeedEvent, type OkxTradesOptions } from '../../src/streams/okx/okxTrades.js';
import { OkxRestClient } from '../../src/streams/okx/rest.js';
import { activeTimers, hangingServer, refusedPort, type HangingServer } from '../support/servers.js';

/**
 * A scripted exchange: the test decides every frame. For the exact edge cases (garbage, duplicates, id gaps,
 * 60018, notices, silence); realistic runs against the OKX simulator are in test/sim.
 */
class ScriptedExchange {
  readonly sockets: WebSocket[] = [];
  readonly received: string[] = [];
  /** REST history-trades rows per instrument, newest first as OKX serves them. */
  history = new Map<
    string,
    { instId: string; tradeId: string; px: string; sz: string; side: string; ts: string }[]
  >();
  instruments = ['BTC-USDT', 'ETH-USDT'];
  /** Symbols REST lists but the WebSocket refuses with 60018. */
  wsUnknown = new Set<string>();
  answerPing = true;
  acceptConnections = true;
  connections = 0;
  private server!: Server;
  private wss!: WebSocketServer;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      res.setHeader('content-type', 'application/json');
      if (url.pathname === '/api/v5/public/instruments') {
        res.end(
          JSON.stringify({
            code: '0',
            msg: '',
            data: this.instruments.map((instId) => ({ instId, instType: 'SPOT', state: 'live' })),
          }),
        );
      } else if (url.pathname === '/api/v5/market/history-trades') {
        const rows = this.history.get(url.searchParams.get('instId') ?? '') ?? [];
        const after = url.searchParams.get('after');
        const page = rows.filter((r) => after === null || Number(r.tradeId) < Number(after)).slice(0, 100);
        res.end(JSON.stringify({ code: '0', msg: '', data: page }));
      } else if (url.pathname === '/api/v5/market/history-candles') {
        res.end(JSON.stringify({ code: '0', msg: '', data: [] }));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      if (!this.acceptConnections) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.connections += 1;
        this.sockets.push(ws);
        ws.on('message', (data) => {
          const text = data.toString();
          this.received.push(text);
          if (text === 'ping') {
            if (this.answerPing) ws.send('pong');
            return;
          }
          const req = JSON.parse(text) as {
            id?: string;
            op: string;
            args: { channel: string; instId: string }[];
          };
          for (const arg of req.args) {
            if (this.instruments.includes(arg.instId) && !this.wsUnknown.has(arg.instId)) {
              ws.send(JSON.stringify({ id: req.id, event: 'subscribe', arg, connId: 'c1' }));
            } else {
              ws.send(
                JSON.stringify({
                  id: req.id,
                  event: 'error',
                  code: '60018',
                  msg: `Wrong URL or channel:trades,instId:${arg.instId} doesn't exist.`,
                  connId: 'c1',
                }),
              );
            }
          }
        });
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get last(): WebSocket {
    return this.sockets[this.sockets.length - 1] as WebSocket;
  }

  push(
    ws: WebSocket,
    instId: string,
    trades: [id: number, px: string, sz: string, ts: number, count?: number][],
  ): void {
    ws.send(
      JSON.stringify({
        arg: { channel: 'trades', instId },
        data: trades.map(([id, px, sz, ts, count]) => ({
          instId,
          tradeId: String(id),
          px,
          sz,
          side: 'buy',
          ts: String(ts),
          ...(count !== undefined ? { count: String(count), source: '0', seqId: id } : {}),
        })),
      }),
    );
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    await new Promise((r) => this.server.close(r));
  }
}

const T0 = 1_723_161_255_000;
let ex: ScriptedExchange;
const subs: Subscription[] = [];

beforeEach(async () => {
  ex = new ScriptedExchange();
  await ex.start();
});
afterEach(async () => {
  subs.splice(0).forEach((s) => s.unsubscribe());
  await ex.stop();
});

interface Run {
  trades: Trade[];
  events: OkxFeedEvent[];
  errors: unknown[];
  log: RecordingLogger;
}

function run(over: Partial<OkxTradesOptions> = {}): Run {
  const r: Run = { trades: [], events: [], errors: [], log: new RecordingLogger() };
  const rest = new OkxRestClient({ baseUrl: `http://127.0.0.1:${ex.port}`, backoffBaseMs: 10 });
  const sub = okxTrades({
    symbols: ['BTC-USDT', 'ETH-USDT'],
    wsUrl: `ws://127.0.0.1:${ex.port}/ws/v5/public`,
    rest,
    logger: r.log,
    onEvent: (e) => r.events.push(e),
    pingAfterMs: 200,
    pongTimeoutMs: 200,
    backoff: { baseMs: 20, maxMs: 100, jitter: 0 },
    ...over,
  }).subscribe({ next: (t) => r.trades.push(t), error: (e) => r.errors.push(e) });
  subs.push(sub);
  return r;
}

async function until(what: string, cond: () => boolean, ms = 5_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const subscribed = (n: number) => () => ex.received.filter((m) => m.includes('"subscribe"')).length >= n;
const ids = (trades: Trade[], symbol = 'BTC-USDT') =>
  trades.filter((t) => t.symbol === symbol).map((t) => Number(t.tradeId));

describe('okxTrades against a scripted exchange', () => {
  it('subscribes each symbol and turns pushes into trades, with the aggregated count', async () => {
    const r = run();
    await until('subscriptions', subscribed(2));
    expect(ex.received.map((m) => JSON.parse(m) as { op: string; args: unknown[] })).toEqual([
      expect.objectContaining({ op: 'subscribe', args: [{ channel: 'trades', instId: 'BTC-USDT' }] }),
      expect.objectContaining({ op: 'subscribe', args: [{ channel: 'trades', instId: 'ETH-USDT' }] }),
    ]);
    ex.push(ex.last, 'BTC-USDT', [[100, '61837.6', '0.5', T0, 3]]);
    ex.push(ex.last, 'ETH-USDT', [[7, '2600.1', '1.25', T0 + 1]]);
    await until('trades', () => r.trades.length === 2);
    expect(r.trades).toEqual([
      { symbol: 'BTC-USDT', tradeId: '100', tsMs: T0, price: 61837.6, size: 0.5, side: 'buy', count: 3 },
      { symbol: 'ETH-USDT', tradeId: '7', tsMs: T0 + 1, price: 2600.1, size: 1.25, side: 'buy' },
    ]);
    expect(r.events[0]).toEqual({
      type: 'connected',
      url: expect.stringContaining('/ws/v5/public'),
      reconnect: false,
    });
  });

  it('drops malformed frames with one log line and a counter, drops duplicates, and goes on', async () => {
    const r = run({ healthEveryMs: 50 });
    await until('subscriptions', subscribed(2));
    const ws = ex.last;
    ex.push(ws, 'BTC-USDT', [[100, '1', '1', T0, 1]]);
    ws.send('{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"tradeId":');
    ws.send(
      '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"x","px":"1","sz":"1","side":"buy","ts":"1"}]}',
    );
    ws.send(Buffer.from([0, 1, 2, 3]));
    ws.send('[]');
    ws.send('{"event":"party"}');
    ex.push(ws, 'BTC-USDT', [[100, '1', '1', T0, 1]]); // duplicate
    ex.push(ws, 'BTC-USDT', [[101, '2', '1', T0 + 5, 1]]);
    await until('trade 101', () => ids(r.trades).includes(101));
    expect(ids(r.trades)).toEqual([100, 101]);
    await until('a health event', () =>
      r.events.some((e) => e.type === 'health' && e.health.malformedFrames === 5),
    );
    const health = r.events.filter((e) => e.type === 'health').pop();
    expect(health).toMatchObject({
      health: { malformedFrames: 5, duplicatesDropped: 1, tradesEmitted: 2, connected: true },
    });
    const warnings = r.log.records.filter((x) => x.msg.startsWith('malformed frame'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      level: 'warn',
      problem: expect.any(String),
      sample: expect.any(String),
    });
  });

  const restRows = (ids: number[], size = '1') =>
    ids.map((id) => ({
      instId: 'BTC-USDT',
      tradeId: String(id),
      px: '1',
      sz: size,
      side: 'sell',
      ts: String(T0 + id),
    }));

  it('fills a gap in trade ids from REST history-trades, in order, before later pushes', async () => {
    const r = run();
    await until('subscriptions', subscribed(2));
    ex.history.set('BTC-USDT', restRows([106, 105, 104, 103, 102, 101, 100]));
    ex.push(ex.last, 'BTC-USDT', [[100, '1', '1', T0 + 100, 1]]);
    ex.push(ex.last, 'BTC-USDT', [[106, '1', '2', T0 + 106, 2]]); // covers 105..106: 101..104 were never pushed
    ex.push(ex.last, 'BTC-USDT', [[107, '1', '1', T0 + 107, 1]]);
    await until('trade 107', () => ids(r.trades).includes(107));
    // Only the hole (101..104) is fetched; the push covering 105..106 is emitted as it came.
    expect(ids(r.trades)).toEqual([100, 101, 102, 103, 104, 106, 107]);
    expect(r.trades.find((t) => t.tradeId === '106')).toMatchObject({ count: 2, size: 2 });
    expect(r.events).toContainEqual(
      expect.objectContaining({ type: 'backfill', symbol: 'BTC-USDT', trades: 4 }),
    );
  });

  it('emits the rest of an aggregated push when REST lags and had only its first trades', async () => {
    const r = run({ symbols: ['BTC-USDT'] });
    await until('subscription', subscribed(1));
    ex.push(ex.last, 'BTC-USDT', [[100, '1', '0.25', T0 + 100, 1]]);
    await until('trade 100', () => r.trades.length === 1);
    // The connection drops; meanwhile a taker order fills 101..104. After the reconnect REST (lagging)
    // has only 101 and 102, and the WebSocket then pushes the order as 104 with count 4.
    ex.history.set('BTC-USDT', restRows([102, 101, 100], '0.25'));
    ex.last.terminate();
    await until('resubscribed', () => ex.connections === 2 && subscribed(2)());
    await until('REST backfill', () => ids(r.trades).includes(102));
    ex.push(ex.last, 'BTC-USDT', [[104, '1', '1', T0 + 104, 4]]);
    await until('trade 104', () => ids(r.trades).includes(104), 10_000);
    expect(ids(r.trades)).toEqual([100, 101, 102, 104]);
    expect(r.trades[3]).toMatchObject({ tradeId: '104', count: 2, size: 0.5 });
    expect(r.log.records.some((x) => x.msg.startsWith('REST had only part of an aggregated push'))).toBe(
      true,
    );
  });

  it('reports an unknown symbol (60018) and keeps the others running', async () => {
    ex.instruments = ['BTC-USDT', 'ETH-USDT', 'FOO-BAR'];
    ex.wsUnknown.add('FOO-BAR'); // listed by REST, refused by the WebSocket
    const r = run({ symbols: ['BTC-USDT', 'FOO-BAR'] });
    await until('subscriptions', subscribed(2));
    await until('symbol error', () => r.events.some((e) => e.type === 'symbol-error'));
    expect(r.events).toContainEqual({
      type: 'symbol-error',
      symbol: 'FOO-BAR',
      code: 'unknown_symbol',
      message: expect.stringContaining(
        "OKX does not know FOO-BAR: Wrong URL or channel:trades,instId:FOO-BAR doesn't exist.",
      ),
    });
    ex.push(ex.last, 'BTC-USDT', [[1, '1', '1', T0, 1]]);
    await until('trade', () => r.trades.length === 1);
    expect(r.errors).toEqual([]);
  });

  it('errors clearly when the WebSocket refuses every symbol, instead of idling', async () => {
    ex.wsUnknown.add('BTC-USDT');
    const r = run({ symbols: ['BTC-USDT'] });
    await until('error', () => r.errors.length === 1);
    expect(String(r.errors[0])).toMatch(/no symbol left \(OKX does not know BTC-USDT/);
  });

  it('checks symbols against instruments at start; a stream with no valid symbol errors clearly', async () => {
    const r = run({ symbols: ['NOPE-USDT', 'BTC-USDT'] });
    await until('subscriptions', subscribed(1));
    expect(r.events).toContainEqual(expect.objectContaining({ type: 'symbol-error', symbol: 'NOPE-USDT' }));
    expect(ex.received.some((m) => m.includes('NOPE-USDT'))).toBe(false);

    const bad = run({ symbols: ['NOPE-USDT'] });
    await until('error', () => bad.errors.length === 1);
    expect(String(bad.errors[0])).toMatch(/none of the symbols exists on OKX \(NOPE-USDT\)/);
  });

  it('pings after silence, reconnects when no pong comes, resubscribes and backfills what was missed', async () => {
    const r = run({ symbols: ['BTC-USDT'] });
    await until('subscription', subscribed(1));
    ex.push(ex.last, 'BTC-USDT', [[10, '1', '1', T0, 1]]);
    await until('trade', () => r.trades.length === 1);
    await until('a ping', () => ex.received.includes('ping'));
    ex.answerPing = false;
    ex.history.set(
      'BTC-USDT',
      [12, 11, 10].map((id) => ({
        instId: 'BTC-USDT',
        tradeId: String(id),
        px: '1',
        sz: '1',
        side: 'buy',
        ts: String(T0 + id),
      })),
    );
    await until('reconnect', () => ex.connections === 2 && subscribed(2)());
    await until('backfill', () => ids(r.trades).includes(12));
    expect(ids(r.trades)).toEqual([10, 11, 12]);
    expect(r.log.records.some((x) => x.msg.startsWith('no pong from OKX'))).toBe(true);
    expect(
      r.events.filter((e) => e.type === 'connected').map((e) => e.type === 'connected' && e.reconnect),
    ).toEqual([false, true]);
  });

  it('on a 64008 notice subscribes a new connection before dropping the old: no gap, no duplicate', async () => {
    const r = run({ symbols: ['BTC-USDT'] });
    await until('subscription', subscribed(1));
    const old = ex.last;
    ex.push(old, 'BTC-USDT', [[1, '1', '1', T0, 1]]);
    old.send(
      JSON.stringify({
        event: 'notice',
        code: '64008',
        msg: 'The connection will soon be closed for a service upgrade.',
        connId: 'c1',
      }),
    );
    await until('second connection subscribed', () => ex.connections === 2 && subscribed(2)());
    const fresh = ex.last;
    ex.push(old, 'BTC-USDT', [[2, '1', '1', T0 + 2, 1]]);
    ex.push(fresh, 'BTC-USDT', [[2, '1', '1', T0 + 2, 1]]);
    ex.push(fresh, 'BTC-USDT', [[3, '1', '1', T0 + 3, 1]]);
    await until('trade 3', () => ids(r.trades).includes(3));
    await until('old connection dropped', () => old.readyState === old.CLOSED);
    expect(ids(r.trades)).toEqual([1, 2, 3]);
    expect(ex.received.filter((m) => m.includes('history-trades'))).toEqual([]);
  });

  it('backs off between failed attempts and switches to the backup URL', async () => {
    ex.acceptConnections = false;
    const backup = new ScriptedExchange();
    await backup.start();
    try {
      const r = run({
        symbols: ['BTC-USDT'],
        backupWsUrl: `ws://127.0.0.1:${backup.port}/ws/v5/public`,
        failoverAfter: 2,
      });
      await until('connected to the backup', () => r.events.some((e) => e.type === 'connected'), 10_000);
      expect(r.events.find((e) => e.type === 'connected')).toMatchObject({
        url: `ws://127.0.0.1:${backup.port}/ws/v5/public`,
      });
      expect(r.events.filter((e) => e.type === 'disconnected').length).toBeGreaterThanOrEqual(2);
      expect(r.log.records.some((x) => x.msg === 'switching OKX URL')).toBe(true);
    } finally {
      subs.splice(0).forEach((s) => s.unsubscribe());
      await backup.stop();
    }
  });
});

/**
 * Issue 9, point 7: a bad or unreachable REST URL does not hold the live stream back. The instruments check
 * waits for one quick answer at most; when there is none the WebSocket goes ahead with every symbol and the
 * check goes on behind it. A backfill REST cannot serve becomes a gap instead of stalling the symbol, and
 * stopping ends every REST request and wait at once.
 */
describe('okxTrades when OKX REST is down or hanging', () => {
  let hanging: HangingServer;
  beforeEach(async () => {
    hanging = await hangingServer();
  });
  afterEach(() => hanging.close());

  it('subscribes and streams while REST never answers, and stopping leaves no timer behind', async () => {
    const timers = activeTimers();
    // Default timeouts and retries: the check alone would take minutes if the WebSocket waited for it.
    const r = run({ rest: new OkxRestClient({ baseUrl: hanging.url }), checkWaitMs: 100 });
    await until('subscriptions', subscribed(2));
    ex.push(ex.last, 'BTC-USDT', [[100, '1', '1', T0, 1]]);
    await until('a trade', () => r.trades.length === 1);
    expect(hanging.connections).toBeGreaterThan(0); // the check is still waiting on REST
    subs.splice(0).forEach((sub) => sub.unsubscribe());
    await until('the REST request abandoned', () => hanging.waiting === 0);
    // undici's own 1 s timer lasts while it keeps a connection (4 s keep-alive); the feed's are minutes long.
    await until('every timer of the feed cleared', () => activeTimers() <= timers, 10_000);
  });

  it('subscribes at once when REST refuses connections', async () => {
    const port = await refusedPort();
    const r = run({
      rest: new OkxRestClient({ baseUrl: `http://127.0.0.1:${port}`, backoffBaseMs: 600_000 }),
      checkWaitMs: 600_000,
    });
    await until('subscriptions', subscribed(2));
    ex.push(ex.last, 'ETH-USDT', [[7, '1', '1', T0, 1]]);
    await until('a trade', () => r.trades.length === 1);
  });

  it('keeps a symbol until REST proves it unknown, then drops it', async () => {
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const rest: Server = createServer((_req, res) => {
      void answered.then(() => {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            code: '0',
            msg: '',
            data: [{ instId: 'BTC-USDT', instType: 'SPOT', state: 'live' }],
          }),
        );
      });
    });
    await new Promise<void>((resolve) => rest.listen(0, '127.0.0.1', resolve));
    try {
      const port = (rest.address() as AddressInfo).port;
      const r = run({ rest: new OkxRestClient({ baseUrl: `http://127.0.0.1:${port}` }), checkWaitMs: 100 });
      await until('subscriptions', subscribed(2));
      ex.push(ex.last, 'ETH-USDT', [[7, '1', '1', T0, 1]]);
      await until('an ETH trade', () => r.trades.length === 1);
      answer();
      await until('the symbol error', () => r.events.some((e) => e.type === 'symbol-error'));
      expect(r.events.filter((e) => e.type === 'symbol-error')).toEqual([
        expect.objectContaining({ symbol: 'ETH-USDT', code: 'unknown_symbol' }),
      ]);
      ex.push(ex.last, 'ETH-USDT', [[8, '1', '1', T0 + 1, 1]]);
      ex.push(ex.last, 'BTC-USDT', [[100, '1', '1', T0 + 2, 1]]);
      await until('the BTC trade', () => r.trades.length === 2);
      expect(r.trades.map((t) => t.tradeId)).toEqual(['7', '100']);
      expect(r.errors).toEqual([]);
    } finally {
      subs.splice(0).forEach((sub) => sub.unsubscribe());
      rest.closeAllConnections();
      await new Promise((resolve) => rest.close(resolve));
    }
  });

  it('gives up a backfill REST cannot serve: the missed trades are a gap and the stream goes on', async () => {
    const port = await refusedPort();
    const r = run({
      symbols: ['BTC-USDT'],
      rest: new OkxRestClient({ baseUrl: `http://127.0.0.1:${port}`, backoffBaseMs: 1 }),
      checkInstruments: false,
      random: () => 0.5,
    });
    await until('subscription', subscribed(1));
    ex.push(ex.last, 'BTC-USDT', [[10, '1', '1', T0 + 10, 1]]);
    await until('trade 10', () => r.trades.length === 1);
    ex.last.terminate();
    await until('resubscribed', () => ex.connections === 2 && subscribed(2)());
    ex.push(ex.last, 'BTC-USDT', [[20, '1', '1', T0 + 20, 1]]); // 11..19 were missed: REST is down
    await until('trade 20', () => ids(r.trades).includes(20), 15_000);
    ex.push(ex.last, 'BTC-USDT', [[21, '1', '1', T0 + 21, 1]]);
    await until('trade 21', () => ids(r.trades).includes(21));
    expect(ids(r.trades)).toEqual([10, 20, 21]);
    expect(r.events).toContainEqual({
      type: 'gap',
      symbol: 'BTC-USDT',
      fromMs: T0 + 10,
      toMs: T0 + 20,
      candles: [],
    });
    expect(r.log.records).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'backfill from OKX REST failed: going on with the live stream; the missed trades are a gap',
      }),
    );
  }, 20_000);

  it('stops a backfill waiting on a hanging REST at once, leaving no timer behind', async () => {
    const timers = activeTimers();
    const r = run({
      symbols: ['BTC-USDT'],
      rest: new OkxRestClient({ baseUrl: hanging.url, timeoutMs: 600_000 }),
      checkInstruments: false,
    });
    await until('subscription', subscribed(1));
    ex.push(ex.last, 'BTC-USDT', [[10, '1', '1', T0 + 10, 1]]);
    ex.push(ex.last, 'BTC-USDT', [[20, '1', '1', T0 + 20, 1]]); // a gap: backfill from REST, which hangs
    await until('the backfill request', () => hanging.waiting > 0);
    subs.splice(0).forEach((sub) => sub.unsubscribe());
    await until('the REST request abandoned', () => hanging.waiting === 0);
    // undici's own 1 s timer lasts while it keeps a connection (4 s keep-alive); the feed's are minutes long.
    await until('every timer of the feed cleared', () => activeTimers() <= timers, 10_000);
    expect(ids(r.trades)).toEqual([10]);
  });
});
