/// <reference lib="dom" />
import { io, type Socket } from 'socket.io-client';
import { apiToken, askToken } from './api.js';

export type LiveEvent =
  'candle' | 'signal' | 'fill' | 'status' | 'performance' | 'backtest:progress' | 'backtest:done';

/**
 * The page's one Socket.IO connection. Views say which rooms they want (`bots`, `bot:{id}`,
 * `market:{symbol}:{timeframe}`, `backtests`); after every (re)connect the wanted rooms are subscribed
 * again and the `onConnect` callbacks run, so each view catches up from the API on what it missed.
 */
export class Live {
  private readonly socket: Socket;
  private readonly rooms = new Set<string>();
  private readonly connectListeners: (() => void)[] = [];

  constructor(onState: (connected: boolean) => void) {
    this.socket = io({
      path: '/socket.io',
      transports: ['websocket', 'polling'],
      // Read at every (re)connect, so a token typed in later is used.
      auth: (cb) => cb(apiToken() === undefined ? {} : { token: apiToken() }),
    });
    this.socket.on('connect_error', (err) => {
      // Refused for want of the token (a server bound beyond loopback): ask, then try again.
      if (/unauthori[sz]ed/i.test(err.message) && !this.socket.active && askToken()) this.socket.connect();
    });
    this.socket.on('connect', () => {
      onState(true);
      if (this.rooms.size > 0) this.socket.emit('subscribe', { rooms: [...this.rooms] });
      for (const listener of this.connectListeners) listener();
    });
    this.socket.on('disconnect', () => onState(false));
  }

  /** Runs after each connect (the first one and every reconnect). */
  onConnect(listener: () => void): void {
    this.connectListeners.push(listener);
  }

  on<T>(event: LiveEvent, listener: (message: T) => void): void {
    this.socket.on(event, listener as (message: unknown) => void);
  }

  /** Sets the rooms of one view: leaves those of `previous` no longer wanted, joins the new ones. */
  swap(previous: readonly string[], next: readonly string[]): void {
    const leave = previous.filter((room) => !next.includes(room));
    const join = next.filter((room) => !this.rooms.has(room));
    for (const room of leave) this.rooms.delete(room);
    for (const room of next) this.rooms.add(room);
    if (!this.socket.connected) return;
    if (leave.length > 0) this.socket.emit('unsubscribe', { rooms: leave });
    if (join.length > 0) this.socket.emit('subscribe', { rooms: join });
  }
}
