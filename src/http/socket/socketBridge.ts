import type { Server as HttpServer } from 'node:http';
import { merge, type Observable, type Subscription } from 'rxjs';
import { Server as SocketIoServer, type Socket } from 'socket.io';
import { BOT_ID_PATTERN, BOT_SYMBOL_PATTERN } from '../../bots/botConfig.js';
import type { Bus } from '../../bus/bus.js';
import { TIMEFRAMES } from '../../domain/timeframe.js';
import { UnauthorizedError } from '../../domain/errors.js';
import type { Logger } from '../../infra/logger.js';
import type { BacktestEvent } from '../backtests/backtestService.js';
import type { ApiMetrics } from '../metrics.js';
import { bearerToken, tokenMatches } from '../security.js';

const MARKET_ROOM = new RegExp(
  `^market:(${BOT_SYMBOL_PATTERN.source.slice(1, -1)}):(${TIMEFRAMES.join('|')})$`,
);
const BOT_ROOM = new RegExp(`^bot:(${BOT_ID_PATTERN.source.slice(1, -1)})$`);
/** Rooms one socket may be in at once. */
const MAX_ROOMS = 200;

/** Whether a client may join `room`: `market:{symbol}:{timeframe}`, `bot:{id}`, `bots` or `backtests`. */
export function isRoom(room: unknown): room is string {
  return (
    typeof room === 'string' &&
    (room === 'bots' || room === 'backtests' || MARKET_ROOM.test(room) || BOT_ROOM.test(room))
  );
}

export interface SocketBridgeOptions {
  readonly bus: Bus;
  readonly backtests$: Observable<BacktestEvent>;
  readonly metrics: ApiMetrics;
  readonly token: string | undefined;
  readonly logger: Logger;
}

/** What `subscribe` / `unsubscribe` acknowledge. */
export interface RoomsAck {
  readonly rooms: string[];
  readonly rejected: unknown[];
}

/**
 * Socket.IO on the API's HTTP server, bridged from the bus so a dashboard sees every process on the same
 * Redis: `market:{symbol}` candles → room `market:{symbol}:{timeframe}` (`candle`); `signals:{bot}` →
 * `bot:{id}` (`signal`, `fill`); `status:{bot}` → `bot:{id}` and `bots` (`status`, `performance`);
 * backtest events → `backtests` (`backtest:progress`, `backtest:done`). Clients `subscribe` / `unsubscribe`
 * with `{ rooms }` and get `{ rooms, rejected }` back. With a token, the handshake must carry it
 * (`auth: { token }` or `Authorization: Bearer`).
 */
export function attachSocketBridge(
  server: HttpServer,
  options: SocketBridgeOptions,
): { readonly io: SocketIoServer; close(): Promise<void> } {
  const io = new SocketIoServer(server, {
    path: '/socket.io',
    serveClient: false,
    maxHttpBufferSize: 64 * 1024,
  });
  const { token } = options;
  if (token !== undefined) {
    io.use((socket, next) => {
      const auth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      const given =
        typeof auth === 'string' ? auth : bearerToken(socket.handshake.headers.authorization ?? undefined);
      if (tokenMatches(given, token)) next();
      else next(new UnauthorizedError('unauthorized: Socket.IO needs the API token (auth: { token })'));
    });
  }
  io.on('connection', (socket: Socket) => {
    const rooms = (payload: unknown): { valid: string[]; rejected: unknown[] } => {
      const list = (payload as { rooms?: unknown } | undefined)?.rooms;
      const all = Array.isArray(list) ? list : [];
      return { valid: all.filter(isRoom), rejected: all.filter((r) => !isRoom(r)) };
    };
    const ack = (cb: unknown, value: RoomsAck): void => {
      if (typeof cb === 'function') (cb as (v: RoomsAck) => void)(value);
    };
    socket.on('subscribe', (payload: unknown, cb?: unknown) => {
      const { valid, rejected } = rooms(payload);
      const room = valid.filter((r) => socket.rooms.has(r) || socket.rooms.size < MAX_ROOMS + 1);
      void socket.join(room);
      ack(cb, { rooms: room, rejected: [...rejected, ...valid.filter((r) => !room.includes(r))] });
    });
    socket.on('unsubscribe', (payload: unknown, cb?: unknown) => {
      const { valid, rejected } = rooms(payload);
      for (const r of valid) void socket.leave(r);
      ack(cb, { rooms: valid, rejected });
    });
  });

  const { bus, metrics, logger } = options;
  const subscriptions: Subscription[] = [
    merge(bus.subscribe('market:*'), bus.subscribe('signals:*'), bus.subscribe('status:*')).subscribe({
      next: ({ message }) => {
        metrics.observe(message);
        switch (message.type) {
          case 'candle':
            io.to(`market:${message.symbol}:${message.timeframe}`).emit('candle', message);
            break;
          case 'signal':
          case 'fill':
            io.to(`bot:${message.botId}`).emit(message.type, message);
            break;
          case 'status':
          case 'performance':
            io.to([`bot:${message.botId}`, 'bots']).emit(message.type, message);
            break;
          default:
            break;
        }
      },
      error: (err: unknown) => logger.error({ err }, 'bus bridge stopped'),
    }),
    options.backtests$.subscribe((e) => {
      if (e.type === 'progress')
        io.to('backtests').emit('backtest:progress', { id: e.id, done: e.done, total: e.total });
      else
        io.to('backtests').emit('backtest:done', {
          id: e.id,
          status: e.status,
          ...(e.error !== undefined ? { error: e.error } : {}),
        });
    }),
  ];
  return {
    io,
    close: async () => {
      for (const s of subscriptions) s.unsubscribe();
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => {
        // Closes the engine (and the HTTP server it is attached to, which startHttpServer also closes).
        void io.close(() => resolve());
      });
    },
  };
}
