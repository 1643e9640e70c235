import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseConfigDir, OKX_DEFAULTS, readEnv } from '../../src/config/env.js';

describe('readEnv', () => {
  it('falls back to embedded defaults for everything absent or blank', () => {
    expect(readEnv({ DATABASE_URL: '  ' })).toEqual({
      databaseUrl: undefined,
      redisUrl: undefined,
      okxWsPublicUrl: OKX_DEFAULTS.wsPublic,
      okxWsBusinessUrl: OKX_DEFAULTS.wsBusiness,
      okxRestUrl: OKX_DEFAULTS.rest,
      okxRestTimeoutMs: undefined,
      okxConfigured: false,
      httpHost: '127.0.0.1',
      httpPort: 8080,
      apiToken: undefined,
      logLevel: 'info',
      dataDir: './data',
      configDir: './config',
    });
  });

  it('reads every variable', () => {
    const env = readEnv({
      DATABASE_URL: 'postgres://u@db:5432/x',
      REDIS_URL: 'redis://r:6379',
      OKX_WS_PUBLIC_URL: 'ws://127.0.0.1:9000/ws/v5/public',
      OKX_WS_BUSINESS_URL: 'ws://127.0.0.1:9000/ws/v5/business',
      OKX_REST_URL: 'http://127.0.0.1:9000',
      OKX_REST_TIMEOUT_MS: '2500',
      HTTP_HOST: '0.0.0.0',
      HTTP_PORT: '3000',
      LOG_LEVEL: 'debug',
      RXTRADE_DATA_DIR: '/var/lib/rxtrade',
      RXTRADE_API_TOKEN: ' s3cret ',
    });
    expect(env).toMatchObject({
      okxConfigured: true,
      okxRestTimeoutMs: 2500,
      httpPort: 3000,
      apiToken: 's3cret',
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
    [
      { OKX_REST_TIMEOUT_MS: '10s' },
      /OKX_REST_TIMEOUT_MS must be a whole number of milliseconds > 0, got "10s"/,
    ],
  ])('names the variable in the error for %j', (env, message) => {
    expect(() => readEnv(env)).toThrow(message);
  });

  describe('the config folder', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'rxtrade-env-'));
      writeFileSync(join(dir, 'file.txt'), 'not a folder');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('takes RXTRADE_CONFIG_DIR when it is a folder', () => {
      expect(readEnv({ RXTRADE_CONFIG_DIR: dir }).configDir).toBe(dir);
    });

    it.each([['missing'], ['file.txt']])(
      'refuses an RXTRADE_CONFIG_DIR that is not a folder (%s), in one line',
      (name) => {
        const path = join(dir, name);
        expect(() => readEnv({ RXTRADE_CONFIG_DIR: path })).toThrow(
          `RXTRADE_CONFIG_DIR "${path}" is not a folder (it should hold bots/ and strategies/)`,
        );
      },
    );

    it('lets --config-dir win over the environment, checked the same way', () => {
      const env = readEnv({});
      expect(chooseConfigDir(undefined, env)).toBe('./config');
      expect(chooseConfigDir(dir, env)).toBe(dir);
      expect(() => chooseConfigDir(join(dir, 'nope'), env)).toThrow(/^--config-dir ".*nope" is not a folder/);
    });
  });
});
