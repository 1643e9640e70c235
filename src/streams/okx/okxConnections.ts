import type { RawData } from 'ws';
import type { Logger } from '../../infra/logger.js';
import { backoffWith, RateLimiter } from '../../infra/rateLimiter.js';
import type { HealthTracker } from './health.js';
import type { OkxTradesOptions } from './okxFeedTypes.js';
import { Connection } from './wsConnection.js';

export interface ConnectionsContext {
  readonly options: OkxTradesOptions;
  readonly log: Logger;
  readonly health: HealthTracker;
  readonly random: () => number;
  /** Aborted when the feed stops. */
  readonly signal: AbortSignal;
  /** The symbols still subscribed (an unknown one is dropped on the way). */
  symbols(): ReadonlyMap<string, unknown>;
  onMessage(conn: Connection, data: RawData, binary: boolean): void;
}

/**
 * The feed's WebSocket connections: subscribe every symbol on open; reconnect with exponential backoff and
 * jitter, at most 3 new connections a second, switching to the backup URL after repeated failures; and
 * a handover (a 64008 notice) that subscribes a new connection before the old one is dropped.
 */
export class OkxConnections {
  private readonly limiter = new RateLimiter(3, 1_000);
  private readonly requestSymbol = new Map<string, string>();
  /** Ids of the `books5` subscribe requests not yet answered: their errors never drop a symbol. */
  private readonly bookRequests = new Set<string>();
  private current: Connection | undefined;
  private incoming: Connection | undefined;
  private failures = 0;
  private attempts = 0;
  private useBackup = false;
  private everConnected = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private requestSeq = 0;
  private connectionSeq = 0;

  constructor(private readonly ctx: ConnectionsContext) {}

  get isOpen(): boolean {
    return this.current?.isOpen ?? false;
  }

  get url(): string | undefined {
    return this.current?.url;
  }

  async connect(handover = false): Promise<void> {
    try {
      await this.limiter.acquire(this.ctx.signal);
    } catch {
      return; // stopped while waiting for a connection slot
    }
    if (this.ctx.signal.aborted) return;
    const { options } = this.ctx;
    const backup = options.backupWsUrl;
    const url = this.useBackup && backup !== undefined ? backup : options.wsUrl;
    const conn = new Connection(url, ++this.connectionSeq, {
      pingAfterMs: options.pingAfterMs ?? 20_000,
      pongTimeoutMs: options.pongTimeoutMs ?? 10_000,
      onOpen: () => this.subscribeAll(conn),
      onMessage: (data, binary) => this.ctx.onMessage(conn, data, binary),
      onStall: () =>
        this.ctx.log.warn(
          { url, connection: conn.id },
          'no pong from OKX: the connection stalled; reconnecting',
        ),
      onClose: (reason) => this.onClose(conn, reason),
    });
    if (handover) this.incoming = conn;
    else this.current = conn;
  }

  close(): void {
    clearTimeout(this.reconnectTimer);
    this.current?.close();
    this.incoming?.close();
  }

  /** The symbol a subscribe request was for (an answer to it is on its way): forgets the request. */
  takeRequest(id: string | undefined): string | undefined {
    if (id === undefined) return undefined;
    const instId = this.requestSymbol.get(id);
    this.requestSymbol.delete(id);
    return instId;
  }

  /** True (and forgets it) when `id` is a `books5` subscribe request. */
  takeBookRequest(id: string | undefined): boolean {
    return id !== undefined && this.bookRequests.delete(id);
  }

  /**
   * OKX confirmed a subscription on `conn`. True when `conn` is the live connection (the symbol may have
   * missed trades meanwhile); false during a handover, which completes once every symbol is confirmed.
   */
  subscribed(conn: Connection, instId: string): boolean {
    conn.acked.add(instId);
    if (conn.acked.size === 1) this.onConnected(conn);
    if (conn === this.incoming) {
      // A handover: the old connection still delivers until this one has every subscription.
      if (conn.acked.size >= this.ctx.symbols().size) this.promote();
      return false;
    }
    return true;
  }

  /** A service notice on `conn`: 64008 asks to move to a new connection. */
  notice(conn: Connection, code: string | undefined): void {
    if (code === '64008' && conn === this.current && this.incoming === undefined) void this.connect(true);
  }

  private subscribeAll(conn: Connection): void {
    for (const instId of this.ctx.symbols().keys()) {
      const id = `${conn.id}x${++this.requestSeq}`;
      this.requestSymbol.set(id, instId);
      conn.send(JSON.stringify({ id, op: 'subscribe', args: [{ channel: 'trades', instId }] }));
      if (this.ctx.options.onBook !== undefined) {
        const bookId = `${conn.id}b${++this.requestSeq}`;
        this.bookRequests.add(bookId);
        conn.send(JSON.stringify({ id: bookId, op: 'subscribe', args: [{ channel: 'books5', instId }] }));
      }
    }
  }

  private onConnected(conn: Connection): void {
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.failures = 0;
    this.ctx.log.info({ url: conn.url, connection: conn.id, reconnect }, 'subscribed to OKX trades');
    this.ctx.options.onEvent?.({ type: 'connected', url: conn.url, reconnect });
  }

  private onClose(conn: Connection, reason: string): void {
    const { options, log } = this.ctx;
    const stopped = this.ctx.signal.aborted;
    const wasHealthy = conn.acked.size > 0;
    for (const id of this.requestSymbol.keys())
      if (id.startsWith(`${conn.id}x`)) this.requestSymbol.delete(id);
    for (const id of this.bookRequests) if (id.startsWith(`${conn.id}b`)) this.bookRequests.delete(id);
    if (conn === this.incoming) {
      this.incoming = undefined;
      if (!stopped)
        log.warn({ url: conn.url, reason }, 'the replacement connection closed before taking over');
      return;
    }
    if (conn !== this.current) return;
    this.current = undefined;
    if (stopped) return;
    log.warn({ url: conn.url, reason, connection: conn.id }, 'OKX connection closed');
    options.onEvent?.({ type: 'disconnected', url: conn.url, reason });
    if (this.incoming?.isOpen) {
      this.promote();
      return;
    }
    if (wasHealthy) this.attempts = 0;
    else this.failures += 1;
    if (options.backupWsUrl !== undefined && this.failures >= (options.failoverAfter ?? 3)) {
      this.useBackup = !this.useBackup;
      this.failures = 0;
      log.warn({ url: this.useBackup ? options.backupWsUrl : options.wsUrl }, 'switching OKX URL');
    }
    this.attempts += 1;
    const defaults = { baseMs: 1_000, maxMs: 60_000, jitter: 0.2 };
    const wait = backoffWith(this.attempts, options.backoff, defaults, this.ctx.random);
    this.ctx.health.reconnects += 1;
    this.reconnectTimer = setTimeout(() => void this.connect(), wait);
  }

  /** The replacement connection has every subscription: it becomes current and the old one is dropped. */
  private promote(): void {
    const old = this.current;
    this.current = this.incoming;
    this.incoming = undefined;
    old?.close();
    this.ctx.log.info({ url: this.current?.url }, 'switched to the new OKX connection');
  }
}
