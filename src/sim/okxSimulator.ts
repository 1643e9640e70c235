import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Candle } from '../domain/candle.js';
import { ConflictError, UsageError } from '../domain/errors.js';
import type { Trade } from '../domain/trade.js';
import { BehindWarning } from './behind.js';
import { FaultSchedule, type PeriodicFault, type SimFaults } from './faults.js';
import { Feeds, type WsPath } from './feeds.js';
import { SimMarket, takerOrders, type SimTrade } from './market.js';
import { deriveSeed, Prng } from './prng.js';
import { SlidingWindowLimiter } from './rateLimit.js';
import { restHandler } from './rest.js';
import { candleTradeSource, recordedTradeSource } from './source.js';
import { emptyStats, type SimStats } from './stats.js';
import { WsSession } from './wsSession.js';

export type { SimFaults } from './faults.js';
export type { SimTrade } from './market.js';
export type { SimStats } from './stats.js';

/**
 * An instrument's data: recorded trades (replayed with their real spacing, shifted so the first trade is
 * at simulator start), or 1m candles from which trades are synthesized (deterministic for a seed).
 */
export type SimInstrument =
  | { readonly instId: string; readonly trades: readonly Trade[] }
  | { readonly instId: string; readonly candles: readonly Candle[]; readonly seed?: number };

/** Where log lines go: a function, or a pino-like logger (its `info`). */
export type SimLogger = ((line: string) => void) | { info(message: string): void };

export interface OkxSimulatorOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  readonly instruments: readonly SimInstrument[];
  /** Replay speed multiplier. Default 1. */
  readonly speed?: number;
  /** When the data ends, start over (ids keep increasing, times keep moving forward). Default true. */
  readonly loop?: boolean;
  readonly faults?: SimFaults;
  /**
   * Start with this much history (simulated ms): the replay begins this long before the clock's start, and
   * the trades of that stretch are in REST history and candles at once, never pushed. So a restarted
   * collector finds the trades it missed. Default 0.
   */
  readonly historyMs?: number;
  /** How many of the newest trades per instrument REST history-trades (and trades) can reach. Default: all. */
  readonly historyTradesLimit?: number;
  /** OKX's rate limits (REST per endpoint, 3 new connections/s per IP, 480 ops/hour). Default true. */
  readonly rateLimits?: boolean;
  /** Close a connection with 4004 after this long without a subscription or traffic. Default 30000. */
  readonly idleCloseMs?: number;
  /** The clock every simulated time comes from. Default Date.now. */
  readonly now?: () => number;
  readonly logger?: SimLogger;
  /**
   * Where the warning goes that the consumer falls behind (a client's send buffer growing, the replay
   * lagging its clock): at most one line every 10 s. Default: `logger`.
   */
  readonly warn?: SimLogger;
  /** Keep at most this many trades per instrument (ground truth and REST). Default: all (tests); the CLI caps it. */
  readonly maxStoredTrades?: number;
}

export interface SimAddress {
  readonly port: number;
  readonly restUrl: string;
  readonly wsPublicUrl: string;
  readonly wsBusinessUrl: string;
}

/** How often the simulator's clock is sampled to generate trades and send pushes. */
const TICK_MS = 10;
/**
 * Trades generated per instrument per tick, at most (200 k/s): however fast the clock runs, a tick stays
 * short, so the process keeps answering (Ctrl-C, its clients) and a replay too fast for its consumer lags
 * its clock (and says so) instead of freezing the event loop.
 */
const MAX_TRADES_PER_TICK = 2_000;
/** A tick this late (wall time) means the process cannot keep up: the replay lags its clock. */
const LATE_TICK_MS = 250;
const FIRST_TRADE_ID = 100_000_000;
const INST_ID = /^[A-Z0-9]+(?:-[A-Z0-9]+)+$/;

/**
 * A local OKX v5 exchange for public market data: WebSocket (/ws/v5/public, /ws/v5/business) and REST
 * on one port, replaying recorded or synthesized trades in real time at any speed, with OKX's limits and
 * error codes, and faults injected on purpose. A client that works against it must work against OKX.
 */
export class OkxSimulator {
  private readonly markets = new Map<string, SimMarket>();
  private readonly sessions = new Set<WsSession>();
  private readonly statsCounters: SimStats = emptyStats();
  private readonly now: () => number;
  private readonly faults: SimFaults;
  private readonly seed: number;
  private readonly faultRng: Prng;
  private readonly connRng: Prng;
  private readonly feeds: Feeds;
  private readonly connectionLimiter = new SlidingWindowLimiter(3, 1000);
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private schedule: FaultSchedule | undefined;
  private startWallMs = 0;
  private lastTickWallMs: number | undefined;
  /** The replay lagging its clock, and a client reading too slowly: each warned about on its own. */
  private readonly lagging: BehindWarning;
  private readonly slowClients: BehindWarning;
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: OkxSimulatorOptions) {
    this.now = options.now ?? Date.now;
    this.faults = options.faults ?? {};
    this.seed = this.faults.seed ?? 1;
    this.faultRng = new Prng(deriveSeed(this.seed, 'faults'));
    this.connRng = new Prng(deriveSeed(this.seed, 'connections'));
    validateOptions(options);
    const speed = options.speed ?? 1;
    options.instruments.forEach((inst, i) => {
      const source =
        'trades' in inst
          ? recordedTradeSource(inst.instId, inst.trades)
          : candleTradeSource(inst.instId, inst.candles, inst.seed ?? 1);
      this.markets.set(
        inst.instId,
        new SimMarket({
          instId: inst.instId,
          source,
          firstTradeId: FIRST_TRADE_ID * (i + 1),
          speed,
          loop: options.loop ?? true,
          ...(options.maxStoredTrades !== undefined ? { maxStoredTrades: options.maxStoredTrades } : {}),
        }),
      );
    });
    this.feeds = new Feeds(this.markets, this.seed);
    const warn = (line: string): void => this.log(line, options.warn ?? options.logger);
    this.lagging = new BehindWarning(warn);
    this.slowClients = new BehindWarning(warn);
  }

  /** Listens on host:port and starts the clock: the first trade of every instrument happens now. */
  async start(): Promise<SimAddress> {
    if (this.started) throw new ConflictError('OkxSimulator: start() may be called once');
    this.started = true;
    const host = this.options.host ?? '127.0.0.1';
    const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
    const server = createServer(
      restHandler({
        now: this.now,
        markets: this.markets,
        feeds: this.feeds,
        stats: this.statsCounters,
        rateLimits: this.options.rateLimits ?? true,
        historyTradesLimit: this.options.historyTradesLimit ?? Infinity,
        seed: this.seed,
        listTimeMs: () => this.startWallMs,
        log: (m) => this.log(m),
      }),
    );
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      // Not HTTP at all: say so, as any web server would, and hang up.
      if (err.code === 'ECONNRESET' || !socket.writable) socket.destroy();
      else socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
    this.server = server;
    this.wss = wss;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(
          err.code === 'EADDRINUSE'
            ? new UsageError(`port ${this.options.port ?? 0} on ${host} is already in use`, { cause: err })
            : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND'
              ? new UsageError(`cannot listen on host ${host}: ${err.code}`, { cause: err })
              : err,
        );
      };
      server.once('error', onError);
      server.listen(this.options.port ?? 0, host, () => {
        server.off('error', onError);
        server.on('error', (err) => this.log(`server error: ${err.message}`));
        resolve();
      });
    });
    this.startWallMs = this.now();
    const historyMs = this.options.historyMs ?? 0;
    for (const market of this.markets.values()) {
      market.start(this.startWallMs - historyMs);
      if (historyMs > 0) this.statsCounters.trades += market.advance(this.startWallMs).length;
    }
    this.schedule = new FaultSchedule(this.faults, this.startWallMs);
    this.lastTickWallMs = undefined;
    this.tick();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    const port = (server.address() as AddressInfo).port;
    const base = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.log(`listening on ${base}: ${[...this.markets.keys()].join(', ')}`);
    return {
      port,
      restUrl: `http://${base}`,
      wsPublicUrl: `ws://${base}/ws/v5/public`,
      wsBusinessUrl: `ws://${base}/ws/v5/business`,
    };
  }

  /** Closes every connection and the server, clears every timer. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.timer !== undefined) clearInterval(this.timer);
      this.timer = undefined;
      for (const s of this.sessions) s.terminate();
      this.sessions.clear();
      const server = this.server;
      this.wss?.close();
      if (server !== undefined && server.listening) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }
    })();
    return this.stopping;
  }

  /** Every trade generated so far (each individual trade, in id order, with live timestamps). */
  groundTruth(instId: string): readonly SimTrade[] {
    const market = this.markets.get(instId);
    if (market === undefined) throw new UsageError(`the simulator has no instrument ${instId}`);
    return market.trades().map((t) => t.sim);
  }

  /** The instruments served, with their price and size steps (other dialects, such as Kraken's, list them). */
  instruments(): readonly {
    instId: string;
    baseCcy: string;
    quoteCcy: string;
    tickSz: string;
    lotSz: string;
  }[] {
    return [...this.markets.values()].map((m) => ({
      instId: m.instId,
      baseCcy: m.baseCcy,
      quoteCcy: m.quoteCcy,
      tickSz: m.tickSz,
      lotSz: m.lotSz,
    }));
  }

  /** The trades generated after trade id `afterId` (all kept ones when undefined), oldest first, without copying the rest. */
  tradesAfter(instId: string, afterId?: number): readonly SimTrade[] {
    const market = this.markets.get(instId);
    if (market === undefined) throw new UsageError(`the simulator has no instrument ${instId}`);
    const all = market.trades();
    let lo = 0;
    let hi = all.length;
    if (afterId !== undefined) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((all[mid] as { id: number }).id <= afterId) lo = mid + 1;
        else hi = mid;
      }
    }
    return all.slice(lo).map((t) => t.sim);
  }

  stats(): Readonly<SimStats> {
    return { ...this.statsCounters, connections: this.sessions.size };
  }

  /** Fault on demand: terminate every open connection (no close frame). */
  dropConnections(): void {
    this.statsCounters.drops += 1;
    for (const s of this.sessions) s.terminate();
    this.log('fault: dropped every connection');
  }

  /** Fault on demand: every open connection sends nothing (no pushes, no pong) for `ms`. */
  stall(ms: number): void {
    this.statsCounters.stalls += 1;
    const until = this.now() + ms;
    for (const s of this.sessions) s.stall(until);
    this.log(`fault: stalled every connection for ${ms} ms`);
  }

  /** Fault on demand: the 64008 notice on every open connection, closed `graceMs` later. */
  notice(graceMs = (this.faults.noticeGraceSec ?? 60) * 1000): void {
    this.statsCounters.notices += 1;
    for (const s of this.sessions) s.notice(graceMs);
    this.log(`fault: service notice, closing every connection in ${graceMs} ms`);
  }

  private tick(): void {
    try {
      this.checkTickLateness();
      const now = this.now();
      for (const fault of this.schedule?.due(now) ?? []) this.runFault(fault);
      this.feeds.beginTick();
      for (const market of this.markets.values()) {
        const fresh = market.advance(now, MAX_TRADES_PER_TICK);
        if (market.behindMs > 0) {
          const behindMs = market.behindMs;
          this.lagging.note(
            () =>
              `the replay lags its clock: ${market.instId} trades are generated ${(behindMs / 1000).toFixed(1)} s ` +
              `(simulated) after their time, more than ${MAX_TRADES_PER_TICK} trades are due every ${TICK_MS} ms: lower --speed`,
          );
        }
        if (fresh.length === 0) continue;
        this.statsCounters.trades += fresh.length;
        const orders = takerOrders(fresh);
        const trades = this.feeds.tradesPushes(market, orders);
        const tradesAll = this.feeds.tradesAllPushes(market, orders);
        for (const s of this.sessions) s.pushTrades(market.instId, trades, tradesAll);
      }
      for (const s of this.sessions) s.tick(now);
    } catch (err) {
      this.log(`internal error: ${err instanceof Error ? err.stack : String(err)}`);
    }
  }

  /** Ticks arriving late mean the process (often the consumer, in the same process) cannot keep up. */
  private checkTickLateness(): void {
    const wall = Date.now();
    const late = this.lastTickWallMs === undefined ? 0 : wall - this.lastTickWallMs - TICK_MS;
    this.lastTickWallMs = wall;
    if (late >= LATE_TICK_MS) {
      this.lagging.note(
        () =>
          `the replay lags its clock: the process was busy for ${late} ms between two ${TICK_MS} ms ticks, so pushes go out late ` +
          '(the consumer cannot keep up: lower --speed)',
      );
    }
  }

  private runFault(fault: PeriodicFault): void {
    if (fault === 'drop') this.dropConnections();
    else if (fault === 'stall') this.stall((this.faults.stallForSec ?? 35) * 1000);
    else this.notice();
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    const kind: WsPath | undefined =
      path === '/ws/v5/public' ? 'public' : path === '/ws/v5/business' ? 'business' : undefined;
    if (kind === undefined)
      return refuse(socket, 404, 'Not Found', { code: '404', msg: `no WebSocket at ${path}` });
    if (this.stopping !== undefined)
      return refuse(socket, 503, 'Service Unavailable', { code: '50001', msg: 'stopping' });
    const ip = req.socket.remoteAddress ?? '?';
    if ((this.options.rateLimits ?? true) && !this.connectionLimiter.tryTake(ip, this.now())) {
      this.statsCounters.rateLimited += 1;
      this.log(`refused a connection from ${ip}: more than 3 new connections in 1 s`);
      return refuse(socket, 429, 'Too Many Requests', { msg: 'Too Many Requests', code: '50011' });
    }
    this.wss?.handleUpgrade(req, socket, head, (ws) => this.accept(ws, kind));
  }

  private accept(ws: WebSocket, kind: WsPath): void {
    if (this.stopping !== undefined) {
      ws.terminate();
      return;
    }
    const session = new WsSession(ws, kind, this.connRng.hex8(), {
      now: this.now,
      idleCloseMs: this.options.idleCloseMs ?? 30_000,
      opsPerHour: (this.options.rateLimits ?? true) ? 480 : Infinity,
      garbageRate: this.faults.garbageRate ?? 0,
      duplicateRate: this.faults.duplicateRate ?? 0,
      rng: this.faultRng,
      feeds: this.feeds,
      stats: this.statsCounters,
      hasInstrument: (instId) => this.markets.has(instId),
      log: (m) => this.log(m),
      behind: (line) => this.slowClients.note(line),
    });
    this.sessions.add(session);
    this.statsCounters.connectionsTotal += 1;
    this.log(`conn ${session.connId}: open on /ws/v5/${kind}`);
    ws.on('close', (code) => {
      this.sessions.delete(session);
      this.log(`conn ${session.connId}: closed (${code})`);
    });
  }

  private log(message: string, logger = this.options.logger): void {
    if (logger === undefined) return;
    if (typeof logger === 'function') logger(message);
    else logger.info(message);
  }
}

function refuse(socket: Duplex, status: number, text: string, body: object): void {
  const json = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
  );
}

function validateOptions(o: OkxSimulatorOptions): void {
  if (o.instruments.length === 0) throw new UsageError('the simulator needs at least one instrument');
  const seen = new Set<string>();
  for (const inst of o.instruments) {
    if (!INST_ID.test(inst.instId)) {
      throw new UsageError(`instrument "${inst.instId}" is not an OKX instrument id like BTC-USDT`);
    }
    if (seen.has(inst.instId)) throw new UsageError(`instrument ${inst.instId} is given twice`);
    seen.add(inst.instId);
  }
  const positive = (name: string, v: number | undefined): void => {
    if (v !== undefined && !(v > 0 && Number.isFinite(v)))
      throw new UsageError(`${name} must be > 0, got ${v}`);
  };
  const probability = (name: string, v: number | undefined): void => {
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new UsageError(`${name} must be in [0, 1], got ${v}`);
  };
  positive('speed', o.speed);
  positive('idleCloseMs', o.idleCloseMs);
  positive('faults.dropEverySec', o.faults?.dropEverySec);
  positive('faults.stallEverySec', o.faults?.stallEverySec);
  positive('faults.stallForSec', o.faults?.stallForSec);
  positive('faults.noticeEverySec', o.faults?.noticeEverySec);
  positive('faults.noticeGraceSec', o.faults?.noticeGraceSec);
  probability('faults.garbageRate', o.faults?.garbageRate);
  probability('faults.duplicateRate', o.faults?.duplicateRate);
  const hm = o.historyMs;
  if (hm !== undefined && !(Number.isFinite(hm) && hm >= 0)) {
    throw new UsageError(`historyMs must be a number ≥ 0, got ${hm}`);
  }
  const h = o.historyTradesLimit;
  if (h !== undefined && !(Number.isInteger(h) && h >= 0)) {
    throw new UsageError(`historyTradesLimit must be an integer ≥ 0, got ${h}`);
  }
  const p = o.port;
  if (p !== undefined && !(Number.isInteger(p) && p >= 0 && p <= 65535)) {
    throw new UsageError(`port must be an integer 0..65535, got ${p}`);
  }
}
