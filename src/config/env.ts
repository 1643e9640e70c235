import { UsageError } from '../domain/errors.js';
import { LOG_LEVELS, type LogLevel } from '../infra/logger.js';

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
  /** True when any OKX_* URL was given. */
  readonly okxConfigured: boolean;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly logLevel: LogLevel;
  /** RXTRADE_DATA_DIR: PGlite files and spill files live here. Default ./data. */
  readonly dataDir: string;
}

export const OKX_DEFAULTS = {
  wsPublic: 'wss://ws.okx.com:8443/ws/v5/public',
  wsBusiness: 'wss://ws.okx.com:8443/ws/v5/business',
  rest: 'https://www.okx.com',
} as const;

export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const url = (name: string, protocols: readonly string[]): string | undefined => {
    const v = get(name);
    if (v === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(v);
    } catch {
      throw new UsageError(`${name} is not a URL: "${v}"`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new UsageError(
        `${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${v}"`,
      );
    }
    return v;
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
  return {
    databaseUrl: url('DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: url('REDIS_URL', ['redis:', 'rediss:']),
    okxWsPublicUrl: wsPublic ?? OKX_DEFAULTS.wsPublic,
    okxWsBusinessUrl: wsBusiness ?? OKX_DEFAULTS.wsBusiness,
    okxRestUrl: rest ?? OKX_DEFAULTS.rest,
    okxConfigured: wsPublic !== undefined || rest !== undefined || wsBusiness !== undefined,
    httpHost: get('HTTP_HOST') ?? '127.0.0.1',
    httpPort,
    logLevel: logLevel as LogLevel,
    dataDir: get('RXTRADE_DATA_DIR') ?? './data',
  };
}
