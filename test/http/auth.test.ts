import { io as connect } from 'socket.io-client';
import { InProcessBus } from '../../src/bus/inProcessBus.js';
import { createHttpApp } from '../../src/http/app.js';
import { isLoopbackHost, tokenMatches } from '../../src/http/security.js';
import { startHttpServer } from '../../src/http/server.js';
import { call, startTestApi, type TestApi } from './support/apiServer.js';

const TOKEN = 'a-long-random-token';

describe('API token', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('postgres', { config: { token: TOKEN } });
  }, 60_000);
  afterAll(async () => {
    await api?.close();
  });
  const doc = { bot_id: 'secured', strategy: 'ema_crossover', symbol: 'BTC-USDT', virtual_balance: 100 };

  it('is required on every mutating route, not on reads', async () => {
    for (const [method, path, body] of [
      ['POST', '/api/bots', doc],
      ['PUT', '/api/bots/secured/config', doc],
      ['POST', '/api/bots/secured/start', undefined],
      ['POST', '/api/bots/secured/stop', undefined],
      ['POST', '/api/bots/secured/pause', undefined],
      ['POST', '/api/bots/secured/resume', undefined],
      ['POST', '/api/backtests', { strategy: 'x' }],
    ] as const) {
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: TOKEN }] as Record<
        string,
        string
      >[]) {
        const r = await call(api.url, method, path, body, headers);
        expect([method, path, r.status, r.body.error.code]).toEqual([method, path, 401, 'unauthorized']);
        expect(r.headers.get('www-authenticate')).toBe('Bearer');
      }
    }
    expect((await call(api.url, 'GET', '/api/bots')).status).toBe(200);
    expect((await call(api.url, 'GET', '/api/health')).status).toBe(200);
    const created = await call(api.url, 'POST', '/api/bots', doc, { authorization: `Bearer ${TOKEN}` });
    expect(created.status).toBe(201);
    const stopped = await call(api.url, 'POST', '/api/bots/secured/stop', undefined, {
      authorization: `bearer ${TOKEN}`,
    });
    expect(stopped.body.status).toBe('inactive');
  });

  it('is required by Socket.IO', async () => {
    const outcome = (auth?: Record<string, string>) =>
      new Promise<string>((resolve) => {
        const s = connect(api.url, {
          transports: ['websocket'],
          reconnection: false,
          ...(auth ? { auth } : {}),
        });
        s.on('connect', () => {
          s.close();
          resolve('connected');
        });
        s.on('connect_error', (err) => {
          s.close();
          resolve(err.message);
        });
      });
    expect(await outcome()).toMatch(/^unauthorized/);
    expect(await outcome({ token: 'wrong' })).toMatch(/^unauthorized/);
    expect(await outcome({ token: TOKEN })).toBe('connected');
  });
});

describe('binding', () => {
  it('refuses a host other than loopback without a token', async () => {
    const bus = new InProcessBus();
    const app = createHttpApp({
      bots: {} as never,
      db: {} as never,
      bus,
      backtests: { running: () => 0 } as never,
    });
    await expect(startHttpServer(app, { host: '0.0.0.0', port: 0 })).rejects.toThrow(
      /HTTP_HOST 0\.0\.0\.0 is not a loopback address: set RXTRADE_API_TOKEN/,
    );
    await bus.close();
  });

  it('tells loopback hosts apart and compares tokens', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '192.168.1.2', 'example.com', '128.0.0.1'].some(isLoopbackHost)).toBe(false);
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(tokenMatches(undefined, TOKEN)).toBe(false);
  });
});

describe('without a token (loopback)', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('postgres');
  }, 60_000);
  afterAll(async () => {
    await api?.close();
  });

  it('lets mutating routes and Socket.IO through', async () => {
    const r = await call(api.url, 'POST', '/api/bots', {
      bot_id: 'open',
      strategy: 'ema_crossover',
      symbol: 'BTC-USDT',
      virtual_balance: 100,
    });
    expect(r.status).toBe(201);
    const connected = await new Promise<boolean>((resolve) => {
      const s = connect(api.url, { transports: ['websocket'], reconnection: false });
      s.on('connect', () => {
        s.close();
        resolve(true);
      });
      s.on('connect_error', () => resolve(false));
    });
    expect(connected).toBe(true);
  });
});
