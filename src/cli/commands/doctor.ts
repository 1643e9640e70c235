import { existsSync, readdirSync, statfsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import WebSocket from 'ws';
import { loadBotConfigs, strategiesFolder } from '../../bots/botConfigFiles.js';
import { redactUrl } from '../../bus/redisBus.js';
import { withRedisProbe } from '../../bus/redisProbe.js';
import { checkUrl, chooseConfigDir, readEnv, REDIS_PROTOCOLS, type Env } from '../../config/env.js';
import { InterruptedError, RxtradeError, UsageError } from '../../domain/errors.js';
import type { Database } from '../../storage/database.js';
import { MIGRATIONS } from '../../storage/migrations/index.js';
import { preparePgliteFolder } from '../../storage/pgliteFolder.js';
import { readPgliteLock } from '../../storage/pgliteLock.js';
import { loadStrategyFile } from '../../strategies/config.js';
import type { CliIo } from '../io.js';
import {
  chooseDatabase,
  DATABASE_URL_HELP,
  openChosen,
  PGLITE_HELP,
  type DatabaseChoice,
} from '../runtime.js';

/**
 * `rxtrade doctor`: checks the environment a user set (database, Redis, OKX, config folder, free disk) and
 * says what is wrong in one line each. It changes nothing: no migration, no folder created, nothing sent
 * to OKX but a clock request and a WebSocket ping.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckLine {
  /** database, redis, okx-rest, okx-ws, config, disk */
  readonly check: string;
  readonly status: CheckStatus;
  readonly message: string;
}

interface DoctorOptions {
  readonly databaseUrl?: string;
  readonly pglite?: string;
  readonly redisUrl?: string;
  readonly configDir?: string;
  readonly timeout: string;
  readonly minFreeMb: string;
  readonly json?: boolean;
}

export const DEFAULT_DOCTOR_TIMEOUT_MS = 5_000;
export const DEFAULT_MIN_FREE_MB = 1_024;

export function registerDoctor(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  program
    .command('doctor')
    .description(
      'Check the environment: database, Redis, OKX endpoints, config folder, free disk. One line each.',
    )
    .option('--database-url <url>', DATABASE_URL_HELP)
    .option('--pglite <path>', PGLITE_HELP)
    .option('--redis-url <url>', 'Redis to check (default: REDIS_URL)')
    .option('--config-dir <dir>', 'config folder (default: RXTRADE_CONFIG_DIR, else ./config)')
    .option(
      '--timeout <ms>',
      'how long each network check waits for an answer',
      String(DEFAULT_DOCTOR_TIMEOUT_MS),
    )
    .option(
      '--min-free-mb <n>',
      'free disk below this for the data folder fails the check (below 4 times it: a warning)',
      String(DEFAULT_MIN_FREE_MB),
    )
    .option('--json', 'print one JSON array of {check, status, message}')
    .addHelpText(
      'after',
      `
Each line is ok, warn or fail. Exit code 1 when any check fails, 0 otherwise. Nothing is changed: the
database is not migrated and a missing PGlite folder is not created.

Examples:
  rxtrade doctor
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/rxtrade REDIS_URL=redis://127.0.0.1:6379 rxtrade doctor`,
    )
    .action(async (options: DoctorOptions) => {
      const lines = await runDoctor(options, io, env);
      if (lines.some((l) => l.status === 'fail')) {
        throw new UsageError(
          `doctor: ${lines.filter((l) => l.status === 'fail').length} check(s) failed (see above)`,
        );
      }
    });
}

export async function runDoctor(
  options: DoctorOptions,
  io: CliIo,
  rawEnv: NodeJS.ProcessEnv = process.env,
): Promise<CheckLine[]> {
  const timeoutMs = positiveNumber(options.timeout, '--timeout');
  const minFreeMb = positiveNumber(options.minFreeMb, '--min-free-mb');
  const env = readEnv(rawEnv);
  const choice = chooseDatabase(options, env);
  const redisUrl =
    options.redisUrl !== undefined
      ? checkUrl('--redis-url', options.redisUrl, REDIS_PROTOCOLS)
      : env.redisUrl;
  const configDir = chooseConfigDir(options.configDir, env);

  const checks: Promise<CheckLine[]>[] = [
    checkDatabase(choice, timeoutMs).then((l) => [l]),
    checkRedis(redisUrl, timeoutMs).then((l) => [l]),
    checkOkx(env, timeoutMs),
    checkConfig(configDir),
    Promise.resolve([checkDisk(env.dataDir, minFreeMb)]),
  ];
  const all = Promise.all(checks).then((groups) => groups.flat());
  const stopped = io.interrupted.then(() => {
    throw new InterruptedError('doctor interrupted');
  });
  const lines = await Promise.race([all, stopped]);
  if (options.json === true) {
    io.stdout.write(`${JSON.stringify(lines)}\n`);
  } else {
    const width = Math.max(...lines.map((l) => l.check.length));
    for (const l of lines) io.stdout.write(`${l.status.padEnd(4)}  ${l.check.padEnd(width)}  ${l.message}\n`);
  }
  return lines;
}

function positiveNumber(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a number > 0, got "${text}"`);
  return n;
}

const line = (check: string, status: CheckStatus, message: string): CheckLine => ({ check, status, message });

/** `promise`, or undefined after `ms` (the work goes on; `onLate` disposes of what it gives later). */
async function within<T>(
  promise: Promise<T>,
  ms: number,
  onLate?: (value: T) => void,
): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  let done = false;
  try {
    const first = await Promise.race([promise.then((v) => ({ v })), late]);
    done = first !== undefined;
    return first?.v;
  } finally {
    clearTimeout(timer);
    if (!done) promise.then((v) => onLate?.(v)).catch(() => undefined);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// --- database ------------------------------------------------------------------------------------------

export async function checkDatabase(choice: DatabaseChoice, timeoutMs: number): Promise<CheckLine> {
  const name = 'database';
  if (choice.url === undefined) {
    const problem = pgliteFolderProblem(choice.pglitePath);
    if (problem !== undefined) return line(name, problem.status, `${choice.where}: ${problem.message}`);
  }
  const lockBefore = choice.url === undefined ? readPgliteLock(choice.pglitePath) : undefined;
  let db: Database | undefined;
  try {
    // PGlite takes a few seconds to start; a Postgres connect that hangs is what the timeout is for.
    db = await within(
      openChosen(choice),
      choice.url === undefined ? Math.max(timeoutMs, 30_000) : timeoutMs,
      (late) => {
        void late.close();
      },
    );
  } catch (err) {
    if (err instanceof RxtradeError && err.code === 'db_locked') {
      return line(name, 'warn', `${err.message} (migrations not checked)`);
    }
    return line(name, 'fail', messageOf(err));
  }
  if (db === undefined) return line(name, 'fail', `${choice.where}: no answer within ${timeoutMs} ms`);
  try {
    const migrations = await migrationState(db);
    const version = db.kind === 'postgres' ? await serverVersion(db) : '';
    const stale =
      lockBefore !== undefined
        ? `; the lock left by ${lockBefore.command} (pid ${lockBefore.pid}), no longer running, was removed`
        : '';
    return line(
      name,
      migrations.status,
      `${choice.where}${version}: reachable, ${migrations.message}${stale}`,
    );
  } catch (err) {
    return line(name, 'fail', `${choice.where}: ${messageOf(err)}`);
  } finally {
    await db.close();
  }
}

/** Why a PGlite path cannot be opened as it is, or undefined when it holds a database to open. */
function pgliteFolderProblem(path: string): { status: CheckStatus; message: string } | undefined {
  if (existsSync(join(path, 'PG_VERSION'))) return undefined;
  try {
    // The checks `start` makes before it creates the folder, without creating it.
    preparePgliteFolder(path, { create: false });
  } catch (err) {
    return { status: 'fail', message: messageOf(err).replace(/^.*? cannot hold/, 'cannot hold') };
  }
  if (!existsSync(path)) {
    return { status: 'ok', message: 'does not exist yet; `rxtrade start` or `rxtrade migrate` creates it' };
  }
  return {
    status: 'ok',
    message:
      readdirSync(path).length === 0
        ? 'an empty folder; `rxtrade start` or `rxtrade migrate` creates the database there'
        : 'being created by another process (it holds the lock, no database yet)',
  };
}

function nearestExisting(abs: string): string {
  let probe = abs;
  while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
  return probe;
}

async function migrationState(db: Database): Promise<{ status: CheckStatus; message: string }> {
  const known = MIGRATIONS.map((m) => m.id);
  const table = await db.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
  if (table[0]?.t === null || table[0]?.t === undefined) {
    return {
      status: 'warn',
      message: `no migration applied yet (${known.length} to apply; \`rxtrade start\` or \`rxtrade migrate\` applies them)`,
    };
  }
  const rows = await db.query<{ id: number }>('SELECT id FROM schema_migrations ORDER BY id');
  const applied = new Set(rows.map((r) => Number(r.id)));
  const missing = MIGRATIONS.filter((m) => !applied.has(m.id));
  const unknown = [...applied].filter((id) => !known.includes(id));
  if (unknown.length > 0) {
    return {
      status: 'warn',
      message: `migrations ${unknown.join(', ')} are not known to this rxtrade: the database was upgraded by a newer version`,
    };
  }
  if (missing.length > 0) {
    const names = missing.map((m) => `${String(m.id).padStart(3, '0')}_${m.name}`).join(', ');
    return {
      status: 'warn',
      message: `${missing.length} of ${known.length} migrations not applied yet (${names}); \`rxtrade start\` or \`rxtrade migrate\` applies them`,
    };
  }
  return { status: 'ok', message: `all ${known.length} migrations applied` };
}

async function serverVersion(db: Database): Promise<string> {
  const rows = await db.query<{ server_version: string }>('SHOW server_version');
  const v = rows[0]?.server_version;
  return v === undefined ? '' : ` (Postgres ${v.split(' ')[0]})`;
}

// --- redis ---------------------------------------------------------------------------------------------

export async function checkRedis(url: string | undefined, timeoutMs: number): Promise<CheckLine> {
  const name = 'redis';
  if (url === undefined) {
    return line(
      name,
      'ok',
      'REDIS_URL not set: the in-process bus (bots and dashboards in one process only)',
    );
  }
  const where = `Redis at ${redactUrl(url)}`;
  try {
    const answered = await withRedisProbe(url, timeoutMs, (client) =>
      within(
        (async () => {
          await client.connect();
          await client.ping();
          const info = await client.info('server');
          return { version: /redis_version:(\S+)/.exec(info)?.[1] };
        })(),
        timeoutMs,
      ),
    );
    if (answered === undefined) return line(name, 'fail', `${where}: no answer within ${timeoutMs} ms`);
    const version = answered.version !== undefined ? ` (Redis ${answered.version})` : '';
    return line(name, 'ok', `${where}${version}: answers PING`);
  } catch (err) {
    return line(name, 'fail', `${where}: ${describeNetError(err)}`);
  }
}

function describeNetError(err: unknown): string {
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  const code = errnoCode(err) ?? errnoCode(cause);
  if (code === 'ECONNREFUSED') return 'nothing answers (ECONNREFUSED)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `unknown host (${code})`;
  if (code !== undefined) return `${messageOf(err)} (${code})`;
  // fetch says only "fetch failed"; the reason is in its cause ("bad port", a TLS error...).
  return cause instanceof Error ? `${messageOf(err)}: ${cause.message}` : messageOf(err);
}

function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // A refused dual-stack connect (localhost → ::1 and 127.0.0.1) is an AggregateError.
  const inner = (err as { errors?: unknown }).errors;
  return Array.isArray(inner) ? errnoCode(inner[0]) : undefined;
}

// --- OKX -----------------------------------------------------------------------------------------------

async function checkOkx(env: Env, timeoutMs: number): Promise<CheckLine[]> {
  if (!env.okxConfigured) {
    return [
      line(
        'okx',
        'ok',
        'no OKX_* URL set: `rxtrade start` uses the embedded simulator (`collect` without --sim would use www.okx.com; not checked)',
      ),
    ];
  }
  return Promise.all([
    checkOkxRest(env.okxRestUrl, timeoutMs),
    checkOkxWs('okx-ws', env.okxWsPublicUrl, timeoutMs),
  ]);
}

/** GET /api/v5/public/time: the cheapest public request, answered by OKX and by the simulator. */
export async function checkOkxRest(baseUrl: string, timeoutMs: number): Promise<CheckLine> {
  const name = 'okx-rest';
  const url = `${baseUrl.replace(/\/+$/, '')}/api/v5/public/time`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let code: unknown;
    try {
      code = (JSON.parse(text) as { code?: unknown }).code;
    } catch {
      code = undefined;
    }
    if (res.ok && code === '0') return line(name, 'ok', `${baseUrl}: answers (server time)`);
    return line(name, 'fail', `${baseUrl}: HTTP ${res.status}, not an OKX v5 answer (${text.slice(0, 80)})`);
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') {
      return line(name, 'fail', `${baseUrl}: no answer within ${timeoutMs} ms`);
    }
    return line(name, 'fail', `${baseUrl}: ${describeNetError(err)}`);
  }
}

/** Opens the WebSocket and sends OKX's text `ping`, expecting `pong`. */
export async function checkOkxWs(name: string, url: string, timeoutMs: number): Promise<CheckLine> {
  const ws = new WebSocket(url, { handshakeTimeout: timeoutMs });
  const outcome = new Promise<CheckLine>((resolveLine) => {
    ws.on('open', () => ws.send('ping'));
    ws.on('message', (data) => {
      const text = (data as Buffer).toString();
      resolveLine(
        text === 'pong'
          ? line(name, 'ok', `${url}: connected, answers ping`)
          : line(name, 'fail', `${url}: connected, but answered ping with ${text.slice(0, 60)}`),
      );
    });
    ws.on('unexpected-response', (_req, res) => {
      resolveLine(line(name, 'fail', `${url}: HTTP ${res.statusCode} instead of a WebSocket`));
    });
    ws.on('error', (err) => resolveLine(line(name, 'fail', `${url}: ${describeNetError(err)}`)));
    ws.on('close', () => resolveLine(line(name, 'fail', `${url}: closed before answering ping`)));
  });
  try {
    return (
      (await within(outcome, timeoutMs)) ?? line(name, 'fail', `${url}: no answer within ${timeoutMs} ms`)
    );
  } finally {
    ws.terminate();
  }
}

// --- config folder -------------------------------------------------------------------------------------

/** Every bot file and strategy file of the folder, validated as `start` validates them: a line per bad file. */
export async function checkConfig(configDir: string): Promise<CheckLine[]> {
  const name = 'config';
  if (!existsSync(configDir)) return [line(name, 'warn', `${configDir}: no such folder (no bots will run)`)];
  const lines: CheckLine[] = [];
  let bots;
  try {
    bots = await loadBotConfigs(configDir);
  } catch (err) {
    return [line(name, 'fail', messageOf(err))];
  }
  let strategies = 0;
  const dir = strategiesFolder(configDir);
  let strategyFiles: string[] = [];
  try {
    strategyFiles = readdirSync(dir)
      .filter((n) => /^[^.].*\.json$/i.test(n))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      lines.push(line(name, 'fail', `${dir}: cannot list it: ${messageOf(err)}`));
    }
  }
  for (const file of strategyFiles) {
    try {
      loadStrategyFile(join(dir, file));
      strategies += 1;
    } catch (err) {
      lines.push(line(name, 'fail', messageOf(err)));
    }
  }
  for (const b of bots) if (b.kind === 'error') lines.push(line(name, 'fail', b.message));
  const goodBots = bots.filter((b) => b.kind === 'config').length;
  if (lines.length === 0) {
    const enabled = bots.filter((b) => b.kind === 'config' && b.config.enabled).length;
    lines.push(
      line(
        name,
        'ok',
        `${configDir}: ${goodBots} bot file${goodBots === 1 ? '' : 's'} (${enabled} enabled) and ${strategies} strategy file${strategies === 1 ? '' : 's'} valid`,
      ),
    );
  }
  return lines;
}

// --- disk ----------------------------------------------------------------------------------------------

/** Free space where the data folder is (or would be): PGlite files and spill files live there. */
export function checkDisk(dataDir: string, minFreeMb: number): CheckLine {
  const name = 'disk';
  const probe = nearestExisting(resolve(dataDir));
  let freeMb: number;
  try {
    const s = statfsSync(probe);
    freeMb = (s.bavail * s.bsize) / 2 ** 20;
  } catch (err) {
    return line(name, 'fail', `${dataDir}: cannot read the free space of ${probe}: ${messageOf(err)}`);
  }
  const free = freeMb >= 10_240 ? `${(freeMb / 1024).toFixed(1)} GiB` : `${Math.floor(freeMb)} MiB`;
  const shown = probe === resolve(dataDir) ? dataDir : `${dataDir} (not created yet; on ${probe})`;
  if (freeMb < minFreeMb) {
    return line(name, 'fail', `${shown}: ${free} free, below --min-free-mb ${minFreeMb}`);
  }
  if (freeMb < 4 * minFreeMb) {
    return line(name, 'warn', `${shown}: ${free} free, less than 4 × --min-free-mb ${minFreeMb}`);
  }
  return line(name, 'ok', `${shown}: ${free} free`);
}
