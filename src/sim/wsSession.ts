import { WebSocket } from 'ws';
import type { BarSpec } from './bars.js';
import { garbageFrame } from './faults.js';
import { channelInfo, type ChannelInfo, type Feeds, type Push, type WsPath } from './feeds.js';
import type { Prng } from './prng.js';
import type { SimStats } from './stats.js';

/** What a connection needs from the simulator around it. */
export interface SessionHost {
  now(): number;
  readonly idleCloseMs: number;
  /** Subscribe/unsubscribe requests allowed per connection per hour (OKX: 480); Infinity = no limit. */
  readonly opsPerHour: number;
  readonly garbageRate: number;
  readonly duplicateRate: number;
  readonly rng: Prng;
  readonly feeds: Feeds;
  readonly stats: SimStats;
  hasInstrument(instId: string): boolean;
  log(message: string): void;
  /** The client falls behind (its send buffer grows): the simulator warns, rate-limited. */
  behind(line: () => string): void;
}

interface Subscription {
  readonly channel: string;
  readonly instId: string;
  readonly info: ChannelInfo;
  /** tickers, books5, forming candles: what was pushed last and when. */
  lastSig?: string;
  lastPushMs: number;
  /** candles: open time of the newest bar whose close has been dealt with. */
  settledOpen?: number;
}

const ID = /^[A-Za-z0-9]{1,32}$/;
const ARG_KEYS = new Set(['channel', 'instId', 'instType', 'instFamily', 'uly', 'ccy']);
const MAX_REQUEST_BYTES = 64 * 1024;
/** OKX closes a connection whose send buffer overflows (4005); so do we, instead of growing without end. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Past this much unsent, the client reads slower than we send: warn before the 4005 close. */
const BEHIND_BUFFERED_BYTES = 1024 * 1024;
const HOUR = 3_600_000;
const MAX_CLOSED_BARS_PER_TICK = 1440;

/** One client WebSocket, speaking OKX's public protocol on /ws/v5/public or /ws/v5/business. */
export class WsSession {
  private readonly subs = new Map<string, Subscription>();
  private readonly connectedMs: number;
  private lastActivityMs: number;
  private everSubscribed = false;
  private readonly ops: number[] = [];
  private stalledUntilMs = -Infinity;
  private closeAtMs: number | undefined;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    readonly path: WsPath,
    readonly connId: string,
    private readonly host: SessionHost,
  ) {
    this.connectedMs = host.now();
    this.lastActivityMs = this.connectedMs;
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      try {
        this.onFrame(data, isBinary);
      } catch (err) {
        // A bug here must never take the server down: log it and carry on.
        host.log(`conn ${connId}: internal error: ${err instanceof Error ? err.stack : String(err)}`);
      }
    });
    ws.on('error', (err) => host.log(`conn ${connId}: socket error: ${err.message}`));
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  get stalled(): boolean {
    return this.host.now() < this.stalledUntilMs;
  }

  /** Pushes the taker orders / individual trades of this tick to `trades` / `trades-all` subscribers. */
  pushTrades(instId: string, trades: readonly string[], tradesAll: readonly string[]): void {
    if (trades.length > 0 && this.subs.has(key('trades', instId))) {
      for (const text of trades) this.push(text, 'trades', instId, true);
    }
    if (tradesAll.length > 0 && this.subs.has(key('trades-all', instId))) {
      for (const text of tradesAll) this.push(text, 'trades-all', instId, true);
    }
  }

  /** Periodic work: candles, tickers, books, the idle close, the close after a notice. */
  tick(nowMs: number): void {
    if (!this.isOpen) return;
    if (this.closeAtMs !== undefined && nowMs >= this.closeAtMs) {
      this.close(1001, 'Service upgrade');
      return;
    }
    if (nowMs < this.stalledUntilMs) return;
    const quietForMs = nowMs - this.lastActivityMs;
    const unsubscribedForMs = this.everSubscribed ? 0 : nowMs - this.connectedMs;
    if (quietForMs >= this.host.idleCloseMs || unsubscribedForMs >= this.host.idleCloseMs) {
      this.host.log(`conn ${this.connId}: idle, closing with 4004`);
      this.close(4004, 'No data received in 30s.');
      return;
    }
    for (const sub of this.subs.values()) {
      if (sub.info.kind === 'candle') this.tickCandle(sub, sub.info.spec as BarSpec, nowMs);
      else if (sub.info.kind === 'tickers')
        this.tickChanged(sub, this.host.feeds.ticker(sub.instId), nowMs, 100);
      else if (sub.info.kind === 'books5')
        this.tickChanged(sub, this.host.feeds.books5(sub.instId), nowMs, 100);
    }
  }

  /** Fault: send nothing at all (no pushes, no pong) until `untilMs`, without closing. */
  stall(untilMs: number): void {
    this.stalledUntilMs = Math.max(this.stalledUntilMs, untilMs);
  }

  /** Fault: the 64008 service notice now, the close `graceMs` later. */
  notice(graceMs: number): void {
    this.sendJson({
      event: 'notice',
      code: '64008',
      msg: 'The connection will soon be closed for a service upgrade. Please reconnect.',
      connId: this.connId,
    });
    this.closeAtMs = this.host.now() + graceMs;
  }

  /** Fault (and shutdown): drop the TCP connection without a close frame. */
  terminate(): void {
    this.closed = true;
    this.ws.terminate();
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(code, reason);
  }

  private tickCandle(sub: Subscription, spec: BarSpec, nowMs: number): void {
    const feeds = this.host.feeds;
    const newest = feeds.newestCandleOpen(sub.instId, spec);
    if (newest === undefined) return;
    // Bars that closed since the last tick: each once, with confirm "1" (OKX never re-sends history).
    let settled = sub.settledOpen ?? (feeds.oldestCandleOpen(sub.instId, spec) as number) - spec.ms;
    let pushed = 0;
    for (let open = settled + spec.ms; open < newest && pushed < MAX_CLOSED_BARS_PER_TICK; open += spec.ms) {
      const bar = feeds.candle(sub.instId, sub.channel, spec, open);
      if (bar !== undefined) this.push(bar.text, sub.channel, sub.instId, false);
      settled = open;
      pushed += 1;
    }
    sub.settledOpen = Math.max(settled, newest - spec.ms);
    const forming = feeds.candle(sub.instId, sub.channel, spec, newest);
    if (forming !== undefined && forming.sig !== sub.lastSig && nowMs - sub.lastPushMs >= 1000) {
      this.push(forming.text, sub.channel, sub.instId, false);
      sub.lastSig = forming.sig;
      sub.lastPushMs = nowMs;
    }
  }

  private tickChanged(sub: Subscription, push: Push | undefined, nowMs: number, everyMs: number): void {
    if (push === undefined || push.sig === sub.lastSig || nowMs - sub.lastPushMs < everyMs) return;
    this.push(push.text, sub.channel, sub.instId, false);
    sub.lastSig = push.sig;
    sub.lastPushMs = nowMs;
  }

  private push(text: string, channel: string, instId: string, duplicable: boolean): void {
    if (!this.isOpen || this.stalled) return;
    const { rng, stats } = this.host;
    if (rng.chance(this.host.garbageRate)) {
      this.send(garbageFrame(rng, text, channel, instId));
      stats.garbageFrames += 1;
    }
    this.send(text);
    stats.pushes += 1;
    this.lastActivityMs = this.host.now();
    if (duplicable && rng.chance(this.host.duplicateRate)) {
      this.send(text);
      stats.duplicates += 1;
    }
  }

  private send(data: string | Buffer): void {
    if (!this.isOpen || this.stalled) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.host.log(`conn ${this.connId}: client too slow, closing with 4005`);
      this.close(4005, 'Buffer full');
      return;
    }
    const buffered = this.ws.bufferedAmount;
    if (buffered > BEHIND_BUFFERED_BYTES) {
      this.host.behind(
        () =>
          `conn ${this.connId}: the client reads slower than the replay sends (${(buffered / 1048576).toFixed(1)} MB ` +
          `waiting; closed with 4005 at ${MAX_BUFFERED_BYTES / 1048576} MB): lower --speed`,
      );
    }
    this.ws.send(data);
  }

  private sendJson(message: object): void {
    this.send(JSON.stringify(message));
  }

  private onFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.closed) return;
    this.lastActivityMs = this.host.now();
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    const text = buffer.toString('utf8');
    if (text === 'ping' && !isBinary) {
      this.send('pong');
      return;
    }
    if (buffer.length > MAX_REQUEST_BYTES) {
      this.error(undefined, '60012', `Invalid request: request larger than 64 KB (${buffer.length} bytes)`);
      return;
    }
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      this.error(undefined, '60012', `Invalid request: ${clip(text)}`);
      return;
    }
    this.onRequest(request, text);
  }

  private onRequest(request: unknown, text: string): void {
    const invalid = (id?: string): void => this.error(id, '60012', `Invalid request: ${clip(text)}`);
    if (!isPlainObject(request)) return invalid();
    const { id } = request;
    if (id !== undefined && (typeof id !== 'string' || !ID.test(id))) return invalid();
    if (Object.keys(request).some((k) => k !== 'id' && k !== 'op' && k !== 'args')) return invalid(id);
    const { op, args } = request;
    if (typeof op !== 'string') return invalid(id);
    if (op !== 'subscribe' && op !== 'unsubscribe') {
      this.error(id, '60019', `Invalid OP: ${clip(op)}`);
      return;
    }
    if (!this.takeOp()) {
      this.host.stats.rateLimited += 1;
      this.error(id, '60014', 'Requests too frequent.');
      return;
    }
    if (!Array.isArray(args) || args.length === 0 || !args.every(isValidArg)) return invalid(id);
    for (const arg of args as { channel: string; instId: string }[]) {
      const info = channelInfo(arg.channel);
      if (info === undefined || info.path !== this.path || !this.host.hasInstrument(arg.instId)) {
        this.error(
          id,
          '60018',
          `Wrong URL or channel:${arg.channel},instId:${arg.instId} doesn't exist. Please use the correct URL, channel and parameters referring to API document.`,
        );
        continue;
      }
      const k = key(arg.channel, arg.instId);
      if (op === 'subscribe') {
        if (!this.subs.has(k)) this.subs.set(k, this.newSubscription(arg.channel, arg.instId, info));
        this.everSubscribed = true;
      } else {
        this.subs.delete(k);
      }
      this.sendJson({
        ...(id !== undefined ? { id } : {}),
        event: op,
        arg: { channel: arg.channel, instId: arg.instId },
        connId: this.connId,
      });
    }
  }

  private newSubscription(channel: string, instId: string, info: ChannelInfo): Subscription {
    const sub: Subscription = { channel, instId, info, lastPushMs: -Infinity };
    if (info.spec !== undefined) {
      // Bars closed before the subscription are history (REST), not pushes.
      const newest = this.host.feeds.newestCandleOpen(instId, info.spec);
      if (newest !== undefined) sub.settledOpen = newest - info.spec.ms;
    }
    return sub;
  }

  /** OKX counts subscribe/unsubscribe requests per connection over a sliding hour. */
  private takeOp(): boolean {
    const now = this.host.now();
    while (this.ops.length > 0 && (this.ops[0] as number) <= now - HOUR) this.ops.shift();
    if (this.ops.length >= this.host.opsPerHour) return false;
    this.ops.push(now);
    return true;
  }

  private error(id: string | undefined, code: string, msg: string): void {
    this.sendJson({ ...(id !== undefined ? { id } : {}), event: 'error', code, msg, connId: this.connId });
  }
}

function key(channel: string, instId: string): string {
  return `${channel}\u0000${instId}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An arg needs a non-empty channel and instId; any key OKX does not know (a misspelling) is an error. */
function isValidArg(arg: unknown): boolean {
  if (!isPlainObject(arg)) return false;
  if (Object.keys(arg).some((k) => !ARG_KEYS.has(k))) return false;
  return (
    typeof arg.channel === 'string' &&
    arg.channel.length > 0 &&
    typeof arg.instId === 'string' &&
    arg.instId.length > 0 &&
    Object.values(arg).every((v) => typeof v === 'string')
  );
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
