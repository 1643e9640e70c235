import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { krakenPair, type KrakenPair } from './krakenNames.js';
import { krakenRestHandler, type KrakenRestHost } from './krakenRest.js';
import type { SimTrade } from './market.js';
import type { OkxSimulator } from './okxSimulator.js';

export interface KrakenAddress {
  readonly port: number;
  /** Kraken's REST base (ccxt `urls.api.public`): `/0/public/…` below it. */
  readonly restUrl: string;
  /** Kraken's public WebSocket v2 (ccxt `urls.api.ws.publicV2`). */
  readonly wsV2Url: string;
}

/** How often new trades are pushed (Kraken batches a channel's updates similarly). */
const PUSH_EVERY_MS = 20;
/** Trades in the snapshot that follows a `trade` subscription (Kraken sends the last 50). */
const SNAPSHOT_TRADES = 50;
const HEARTBEAT_MS = 1000;

type PairInfo = KrakenRestHost['pairs'][number];

/**
 * Kraken's public dialect over a running OkxSimulator's instruments, on a second port of the same process:
 * REST `/0/public/{Assets,AssetPairs,Ticker,Depth,OHLC,Trades,Time,SystemStatus}` and WebSocket v2 (`/v2`) with
 * the `trade` channel (subscribe → ack → snapshot → updates), `ping`/`pong` and heartbeats. The same
 * trades as the OKX dialect (its ground truth), in Kraken's names: `BTC-USDT` is `XBTUSDT` and `BTC/USDT`.
 */
export class KrakenSimulator {
  private readonly pairs: PairInfo[];
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Per instrument: the last trade id pushed, and the sockets subscribed. */
  private readonly cursors = new Map<string, number | undefined>();
  private readonly subscribers = new Map<string, Set<WebSocket>>();
  private lastHeartbeatMs = 0;

  constructor(
    private readonly sim: OkxSimulator,
    private readonly options: {
      readonly host?: string;
      readonly port?: number;
      readonly now?: () => number;
    } = {},
  ) {
    this.pairs = sim.instruments().map((i) => ({
      ...krakenPair(i.instId, i.baseCcy, i.quoteCcy),
      tickSz: i.tickSz,
      lotSz: i.lotSz,
    }));
  }

  async start(): Promise<KrakenAddress> {
    const now = this.options.now ?? Date.now;
    const server = createServer(
      krakenRestHandler({
        pairs: this.pairs,
        now,
        tradesAfter: (instId, afterId) => this.sim.tradesAfter(instId, afterId),
        lastTrade: (instId) => this.lastTrade(instId),
      }),
    );
    const wss = new WebSocketServer({ server, path: '/v2', maxPayload: 64 * 1024 });
    wss.on('connection', (ws) => this.onConnection(ws));
    this.server = server;
    this.wss = wss;
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve) => server.listen(this.options.port ?? 0, host, resolve));
    const port = (server.address() as AddressInfo).port;
    for (const p of this.pairs) this.cursors.set(p.instId, this.newestId(p.instId));
    this.timer = setInterval(() => this.push(), PUSH_EVERY_MS);
    return { port, restUrl: `http://${host}:${port}`, wsV2Url: `ws://${host}:${port}/v2` };
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const ws of this.wss?.clients ?? []) ws.terminate();
    await new Promise<void>((resolve) =>
      this.wss === undefined ? resolve() : this.wss.close(() => resolve()),
    );
    await new Promise<void>((resolve) =>
      this.server === undefined ? resolve() : this.server.close(() => resolve()),
    );
  }

  /** Fault on demand: terminate every open WebSocket (no close frame), as a network failure would. */
  dropConnections(): number {
    const clients = [...(this.wss?.clients ?? [])];
    for (const ws of clients) ws.terminate();
    return clients.length;
  }

  /** The newest trade, found from the push cursor (without copying the instrument's trades). */
  private lastTrade(instId: string): SimTrade | undefined {
    const cursor = this.cursors.get(instId);
    const fresh = this.sim.tradesAfter(instId, cursor === undefined ? undefined : cursor - 1);
    return fresh[fresh.length - 1];
  }

  private newestId(instId: string): number | undefined {
    const all = this.sim.tradesAfter(instId, this.cursors.get(instId));
    const last = all[all.length - 1];
    return last === undefined ? this.cursors.get(instId) : Number(last.tradeId);
  }

  private onConnection(ws: WebSocket): void {
    send(ws, {
      channel: 'status',
      type: 'update',
      data: [
        {
          api_version: 'v2',
          connection_id: Math.floor(Math.random() * 1e15),
          system: 'online',
          version: '2.0.0',
        },
      ],
    });
    ws.on('message', (data: Buffer) => this.onMessage(ws, data.toString('utf8')));
    ws.on('close', () => {
      for (const set of this.subscribers.values()) set.delete(ws);
    });
  }

  private onMessage(ws: WebSocket, text: string): void {
    const timeIn = new Date().toISOString();
    let msg: {
      method?: unknown;
      params?: { channel?: unknown; symbol?: unknown; snapshot?: unknown };
      req_id?: unknown;
    };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return send(ws, { error: 'Malformed request', method: 'unknown', success: false });
    }
    const reqId = typeof msg.req_id === 'number' ? { req_id: msg.req_id } : {};
    if (msg.method === 'ping') {
      return send(ws, { method: 'pong', ...reqId, time_in: timeIn, time_out: new Date().toISOString() });
    }
    if (msg.method !== 'subscribe' && msg.method !== 'unsubscribe') {
      return send(ws, { error: 'Method not found', method: String(msg.method), success: false, ...reqId });
    }
    const channel = msg.params?.channel;
    const symbols = Array.isArray(msg.params?.symbol) ? (msg.params.symbol as unknown[]) : [];
    if (channel !== 'trade') {
      return send(ws, {
        error: `Channel ${String(channel)} not supported by the simulator`,
        method: msg.method,
        success: false,
        ...reqId,
      });
    }
    for (const symbol of symbols) {
      const pair = this.pairs.find((p) => p.wsSymbol === symbol);
      if (pair === undefined) {
        send(ws, {
          error: `Currency pair not supported ${String(symbol)}`,
          method: msg.method,
          success: false,
          symbol,
          ...reqId,
          time_in: timeIn,
          time_out: new Date().toISOString(),
        });
        continue;
      }
      const set = this.subscribers.get(pair.instId) ?? new Set<WebSocket>();
      this.subscribers.set(pair.instId, set);
      if (msg.method === 'unsubscribe') set.delete(ws);
      else set.add(ws);
      const snapshot = msg.params?.snapshot !== false;
      send(ws, {
        method: msg.method,
        result: {
          channel: 'trade',
          ...(msg.method === 'subscribe' ? { snapshot } : {}),
          symbol: pair.wsSymbol,
        },
        success: true,
        time_in: timeIn,
        time_out: new Date().toISOString(),
        ...reqId,
      });
      if (msg.method === 'subscribe' && snapshot) {
        const upTo = this.cursors.get(pair.instId);
        const kept = this.sim
          .tradesAfter(pair.instId)
          .filter((t) => upTo !== undefined && Number(t.tradeId) <= upTo);
        const last = kept.slice(-SNAPSHOT_TRADES);
        if (last.length > 0)
          send(ws, { channel: 'trade', type: 'snapshot', data: last.map((t) => tradeRow(pair, t)) });
      }
    }
  }

  /** New trades of every instrument to its subscribers, one `update` per instrument; heartbeats meanwhile. */
  private push(): void {
    for (const pair of this.pairs) {
      const after = this.cursors.get(pair.instId);
      const fresh = this.sim.tradesAfter(pair.instId, after);
      if (fresh.length === 0) continue;
      this.cursors.set(pair.instId, Number(fresh[fresh.length - 1]?.tradeId));
      const subs = this.subscribers.get(pair.instId);
      if (subs === undefined || subs.size === 0) continue;
      for (let i = 0; i < fresh.length; i += 1000) {
        const text = JSON.stringify({
          channel: 'trade',
          type: 'update',
          data: fresh.slice(i, i + 1000).map((t) => tradeRow(pair, t)),
        });
        for (const ws of subs) if (ws.readyState === ws.OPEN) ws.send(text);
      }
    }
    const wall = Date.now();
    if (wall - this.lastHeartbeatMs >= HEARTBEAT_MS) {
      this.lastHeartbeatMs = wall;
      for (const ws of this.wss?.clients ?? []) send(ws, { channel: 'heartbeat' });
    }
  }
}

function send(ws: WebSocket, message: object): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
}

/** A trade as Kraken's v2 `trade` channel describes it (numbers as JSON numbers, RFC 3339 time in µs). */
function tradeRow(pair: KrakenPair, t: SimTrade): object {
  return {
    symbol: pair.wsSymbol,
    side: t.side,
    price: Number(t.px),
    qty: Number(t.sz),
    ord_type: 'market',
    trade_id: Number(t.tradeId),
    timestamp: new Date(t.ts).toISOString().replace('Z', '000Z'),
  };
}
