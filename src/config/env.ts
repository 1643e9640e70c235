import { statSync } from 'node:fs';
import { UsageError } from '../domain/errors.js';
import { LOG_LEVELS, type LogLevel } from '../infra/logger.js';
import { DEFAULT_DATA_DIR } from './dataDir.js';

/**
 * Everything rxtrade reads from the environment, validated in one place: a bad value fails at start with
 * the variable's name, never later. Anything absent falls back to an embedded default.
 */
export interface Env {
  /** Postgres; absent → PGlite under `dataDir`. */
  readonly databaseUrl: string | undefined;
  /** Redis; absent → the in-process bus. */
  readonly redisUrl: string | undefined;
  /** Absent → the real OKX endpoints (`okxConfigured` false: `start` then uses the embedded simulator). */
  readonly okxWsPublicUrl: string;
  readonly okxWsBusinessUrl: string;
  readonly okxRestUrl: string;
  /** OKX_REST_TIMEOUT_MS: per REST request; absent → the client's default (10 s). */
  readonly okxRestTimeoutMs: number | undefined;
  /** True when any OKX_* URL was given. */
  readonly okxConfigured: boolean;
  readonly httpHost: string;
  readonly httpPort: number;
  /** RXTRADE_API_TOKEN: bearer token of the HTTP API's mutating routes and Socket.IO (required off loopback). */
  readonly apiToken: string | undefined;
  readonly logLevel: LogLevel;
  /** RXTRADE_DATA_DIR: PGlite files and spill files live here. Default ./data. */
  readonly dataDir: string;
  /** RXTRADE_CONFIG_DIR: bots/ and strategies/ live here. Default ./config. */
  readonly configDir: string;
}

export const DEFAULT_CONFIG_DIR = './config';

/** The config folder: `--config-dir` (checked), else RXTRADE_CONFIG_DIR (checked by readEnv), else ./config. */
export function chooseConfigDir(flag: string | undefined, env: Pick<Env, 'configDir'>): string {
  return flag === undefined ? env.configDir : checkConfigDir(flag, '--config-dir');
}

/**
 * Checks that a config folder given explicitly (`--config-dir`, RXTRADE_CONFIG_DIR) exists, so a typo does
 * not silently run no bots; `name` (the flag or variable) is named in the error. The default ./config may
 * be absent (no bots then).
 */
export function checkConfigDir(dir: string, name: string): string {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    throw new UsageError(`${name} "${dir}" is not a folder (it should hold bots/ and strategies/)`);
  }
  return dir;
}

export const OKX_DEFAULTS = {
  wsPublic: 'wss://ws.okx.com:8443/ws/v5/public',
  wsBusiness: 'wss://ws.okx.com:8443/ws/v5/business',
  rest: 'https://www.okx.com',
} as const;

export const POSTGRES_PROTOCOLS = ['postgres:', 'postgresql:'] as const;
export const REDIS_PROTOCOLS = ['redis:', 'rediss:'] as const;

/**
 * Checks a URL setting; `name` is what the user wrote it as (`DATABASE_URL`, `--database-url`), so the
 * message points at the right place. The same rules hold for a variable and for the flag that overrides it.
 */
export function checkUrl(name: string, value: string, protocols: readonly string[]): string {
  const v = value.trim();
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    throw new UsageError(`${name} is not a URL: "${value}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new UsageError(
      `${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${value}"`,
    );
  }
  return v;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const url = (name: string, protocols: readonly string[]): string | undefined => {
    const v = get(name);
    return v === undefined ? undefined : checkUrl(name, v, protocols);
  };
  const logLevel = get('LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new UsageError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const portText = get('HTTP_PORT') ?? '8080';
  const httpPort = Number(portText);
  if (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65535) {
    throw new UsageError(`HTTP_PORT must be an integer port 0..65535, got "${portText}"`);
  }
  const wsPublic = url('OKX_WS_PUBLIC_URL', ['ws:', 'wss:']);
  const wsBusiness = url('OKX_WS_BUSINESS_URL', ['ws:', 'wss:']);
  const rest = url('OKX_REST_URL', ['http:', 'https:']);
  const configDirText = get('RXTRADE_CONFIG_DIR');
  const configDir =
    configDirText === undefined ? undefined : checkConfigDir(configDirText, 'RXTRADE_CONFIG_DIR');
  const restTimeoutText = get('OKX_REST_TIMEOUT_MS');
  const okxRestTimeoutMs = restTimeoutText === undefined ? undefined : Number(restTimeoutText);
  if (okxRestTimeoutMs !== undefined && !(Number.isInteger(okxRestTimeoutMs) && okxRestTimeoutMs > 0)) {
    throw new UsageError(
      `OKX_REST_TIMEOUT_MS must be a whole number of milliseconds > 0, got "${restTimeoutText}"`,
    );
  }
  return {
    databaseUrl: url('DATABASE_URL', POSTGRES_PROTOCOLS),
    redisUrl: url('REDIS_URL', REDIS_PROTOCOLS),
    okxWsPublicUrl: wsPublic ?? OKX_DEFAULTS.wsPublic,
    okxWsBusinessUrl: wsBusiness ?? OKX_DEFAULTS.wsBusiness,
    okxRestUrl: rest ?? OKX_DEFAULTS.rest,
    okxRestTimeoutMs,
    okxConfigured: wsPublic !== undefined || rest !== undefined || wsBusiness !== undefined,
    httpHost: get('HTTP_HOST') ?? '127.0.0.1',
    httpPort,
    apiToken: get('RXTRADE_API_TOKEN'),
    logLevel: logLevel as LogLevel,
    dataDir: get('RXTRADE_DATA_DIR') ?? DEFAULT_DATA_DIR,
    configDir: configDir ?? DEFAULT_CONFIG_DIR,
  };
}
