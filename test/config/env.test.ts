import { OKX_DEFAULTS, readEnv } from '../../src/config/env.js';

describe('readEnv', () => {
  it('falls back to embedded defaults for everything absent or blank', () => {
    expect(readEnv({ DATABASE_URL: '  ' })).toEqual({
      databaseUrl: undefined,
      redisUrl: undefined,
      okxWsPublicUrl: OKX_DEFAULTS.wsPublic,
      okxWsBusinessUrl: OKX_DEFAULTS.wsBusiness,
      okxRestUrl: OKX_DEFAULTS.rest,
      okxConfigured: false,
      httpHost: '127.0.0.1',
      httpPort: 8080,
      logLevel: 'info',
      dataDir: './data',
    });
  });

  it('reads every variable', () => {
    const env = readEnv({
      DATABASE_URL: 'postgres://u@db:5432/x',
      REDIS_URL: 'redis://r:6379',
      OKX_WS_PUBLIC_URL: 'ws://127.0.0.1:9000/ws/v5/public',
      OKX_WS_BUSINESS_URL: 'ws://127.0.0.1:9000/ws/v5/business',
      OKX_REST_URL: 'http://127.0.0.1:9000',
      HTTP_HOST: '0.0.0.0',
      HTTP_PORT: '3000',
      LOG_LEVEL: 'debug',
      RXTRADE_DATA_DIR: '/var/lib/rxtrade',
    });
    expect(env).toMatchObject({
      okxConfigured: true,
      httpPort: 3000,
      logLevel: 'debug',
      dataDir: '/var/lib/rxtrade',
    });
  });

  it.each([
    [
      { LOG_LEVEL: 'loud' },
      /LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "loud"/,
    ],
    [{ HTTP_PORT: '80a' }, /HTTP_PORT must be an integer port 0\.\.65535, got "80a"/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//],
    [{ REDIS_URL: 'not a url' }, /REDIS_URL is not a URL: "not a url"/],
    [{ OKX_WS_PUBLIC_URL: 'https://www.okx.com' }, /OKX_WS_PUBLIC_URL must start with ws:\/\/ or wss:\/\//],
  ])('names the variable in the error for %j', (env, message) => {
    expect(() => readEnv(env)).toThrow(message);
  });
});
