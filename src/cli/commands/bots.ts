import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { BOT_ID_PATTERN } from '../../bots/botConfig.js';
import type { BotView } from '../../bots/botControl.js';
import { readEnv, type Env } from '../../config/env.js';
import { RxtradeError, UsageError } from '../../domain/errors.js';
import { BotStore, type BotSummary } from '../../storage/botStore.js';
import { migrate } from '../../storage/migrate.js';
import { readPgliteLock } from '../../storage/pgliteLock.js';
import { type CliIo, writeText } from '../io.js';
import { chooseDatabase, DATABASE_URL_HELP, openChosen, PGLITE_HELP } from '../runtime.js';

interface BotsListOptions {
  readonly databaseUrl?: string;
  readonly pglite?: string;
  readonly json?: boolean;
  readonly url?: string;
}

interface BotActionOptions {
  readonly url?: string;
  readonly token?: string;
  readonly json?: boolean;
  readonly pglite?: string;
}

const URL_HELP =
  'HTTP API of the running instance (default: http://HTTP_HOST:HTTP_PORT, i.e. http://127.0.0.1:8080)';
const TOKEN_HELP = 'API token of an instance that requires one (default: RXTRADE_API_TOKEN)';
const ACTIONS = {
  start: 'Start a bot of the running instance.',
  stop: 'Stop a bot of the running instance (its positions stay as they are).',
  pause: 'Pause a bot of the running instance: it manages open positions and opens none.',
  resume: 'Resume a paused bot of the running instance.',
} as const;
type BotAction = keyof typeof ACTIONS;

const HOW_TO_START =
  'bots come from config/bots/*.json or *.yaml (or --config-dir DIR, RXTRADE_CONFIG_DIR) and run with `rxtrade start`';

export function registerBots(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  const bots = program
    .command('bots')
    .description(
      'Paper-trading bots: list them (status, cash, value, P&L, trades); start, stop, pause or resume one of the running instance.',
    );
  bots
    .command('list')
    .description(
      "Print every bot's status, cash, total value, P&L, trades and last candle: from the running instance's API, else from the database.",
    )
    .option('--url <url>', URL_HELP)
    .option('--database-url <url>', DATABASE_URL_HELP)
    .option('--pglite <path>', PGLITE_HELP)
    .option('--json', 'print one JSON array (snake_case keys, epoch-ms times)')
    .addHelpText(
      'after',
      `
Without --database-url or --pglite, asks the running instance (\`rxtrade start\`) at --url; when none
answers, reads the database (DATABASE_URL, else the embedded PGlite folder, which can only be read while no
process holds it). P&L is total value (cash + open positions at the last price) minus the virtual balance;
trades counts fills since the bot last started over.

Examples:
  rxtrade bots list
  rxtrade bots list --url http://127.0.0.1:9090 --json
  rxtrade bots list --database-url postgres://postgres@127.0.0.1:5432/rxtrade --json`,
    )
    .action(async (options: BotsListOptions) => {
      await runBotsList(options, io, env);
    });
  for (const action of Object.keys(ACTIONS) as BotAction[]) {
    bots
      .command(`${action} <id>`)
      .description(ACTIONS[action])
      .option('--url <url>', URL_HELP)
      .option('--token <token>', TOKEN_HELP)
      .option('--pglite <path>', 'find the instance holding this PGlite folder (its lock names its API)')
      .option('--json', 'print the bot after the action as JSON')
      .addHelpText(
        'after',
        `
Talks to the running instance over its HTTP API (POST /api/bots/<id>/${action}); exits 1 with the reason
when the bot is unknown, its state forbids the action, or no instance answers.

Example:
  rxtrade bots ${action} btc-ema-fast`,
      )
      .action(async (id: string, options: BotActionOptions) => {
        await runBotAction(action, id, options, io, env);
      });
  }
}

/** The API URL to try: --url, else HTTP_HOST:HTTP_PORT (a wildcard host is reached on 127.0.0.1). */
export function defaultApiUrl(env: Pick<Env, 'httpHost' | 'httpPort'>): string {
  const host = env.httpHost === '0.0.0.0' || env.httpHost === '::' ? '127.0.0.1' : env.httpHost;
  return `http://${host.includes(':') ? `[${host}]` : host}:${env.httpPort}`;
}

/** An API that could not be reached (nothing listens, timeout): distinct from an API that said no. */
class NoInstanceError extends RxtradeError {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(
      'no_instance',
      `no rxtrade instance answers at ${url}: start one with \`rxtrade start\` (or give --url)`,
      { cause },
    );
    this.name = 'NoInstanceError';
  }
}

const API_TIMEOUT_MS = 5_000;

/** One API call; an error answer becomes a UsageError with the API's message (exit 1). */
async function callApi(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  token: string | undefined,
): Promise<unknown> {
  let res: Response;
  const url = base.replace(/\/+$/, '') + path;
  try {
    res = await fetch(url, {
      method,
      headers: token !== undefined ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(API_TIMEOUT_MS),
    });
  } catch (err) {
    throw new NoInstanceError(base, err);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UsageError(`${url} answered ${res.status} with something else than the rxtrade API's JSON`);
  }
  if (!res.ok) {
    const message = (body as { error?: { message?: unknown } }).error?.message;
    throw new UsageError(
      `${method} ${path}: ${typeof message === 'string' ? message : `HTTP ${res.status}`}${res.status === 401 ? ' (--token or RXTRADE_API_TOKEN)' : ''}`,
    );
  }
  return body;
}

/** `rxtrade bots start|stop|pause|resume ID`: one call to the running instance's API. */
export async function runBotAction(
  action: BotAction,
  id: string,
  options: BotActionOptions,
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BotView> {
  if (!BOT_ID_PATTERN.test(id)) {
    throw new UsageError(
      `bot id "${id}": use 1 to 64 lower-case letters, digits, "_" or "-", starting with a letter or digit`,
    );
  }
  const e = readEnv(env);
  const token = options.token ?? e.apiToken;
  const path = `/api/bots/${id}/${action}`;
  let bot: BotView;
  try {
    bot = (await callApi(options.url ?? defaultApiUrl(e), 'POST', path, token)) as BotView;
  } catch (err) {
    // The instance holding the PGlite folder wrote its API URL in the lock: go there.
    const api =
      options.url === undefined ? lockApi(options.pglite ?? chooseDatabase({}, e).pglitePath) : undefined;
    if (!(err instanceof NoInstanceError) || api === undefined || api === err.url) throw err;
    bot = (await callApi(api, 'POST', path, token)) as BotView;
  }
  await writeText(
    io.stdout,
    options.json === true ? `${JSON.stringify(botJson(bot))}\n` : `${bot.botKey}: ${bot.status}\n`,
  );
  return bot;
}

function lockApi(pglitePath: string): string | undefined {
  return existsSync(pglitePath) ? readPgliteLock(pglitePath)?.api : undefined;
}

export async function runBotsList(
  options: BotsListOptions,
  io: CliIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BotSummary[]> {
  const e = readEnv(env);
  const choice = chooseDatabase(options, e);
  const databaseNamed = options.databaseUrl !== undefined || options.pglite !== undefined;
  let list: BotSummary[] | undefined;
  let where = choice.where;
  // The running instance knows live state; a database named explicitly is read as asked.
  if (!databaseNamed || options.url !== undefined) {
    const urls = [options.url ?? defaultApiUrl(e)];
    const api =
      options.url === undefined && choice.url === undefined ? lockApi(choice.pglitePath) : undefined;
    if (api !== undefined && api !== urls[0]) urls.push(api);
    for (const url of urls) {
      try {
        list = ((await callApi(url, 'GET', '/api/bots', e.apiToken)) as { bots: BotView[] }).bots;
        where = `the instance at ${url}`;
        break;
      } catch (err) {
        if (!(err instanceof NoInstanceError) || options.url !== undefined) throw err;
      }
    }
  }
  if (list === undefined) {
    list = [];
    // An embedded database that was never created holds no bot: say so instead of creating it.
    if (choice.url !== undefined || existsSync(choice.pglitePath)) {
      // A folder held by another process is refused here with who holds it (DatabaseLockedError).
      const db = await openChosen(choice);
      try {
        await migrate(db);
        list = await new BotStore(db).listBots();
      } finally {
        await db.close();
      }
    }
  }
  if (options.json === true) {
    await writeText(io.stdout, `${JSON.stringify(list.map(botJson))}\n`);
  } else if (list.length === 0) {
    await writeText(io.stdout, `no bots in ${where} yet: ${HOW_TO_START}\n`);
  } else {
    await writeText(io.stdout, botsTable(list));
  }
  return list;
}

/** One bot as JSON, snake_case as the rest of the CLI's JSON. */
function botJson(b: BotSummary): Record<string, unknown> {
  return {
    bot_id: b.botKey,
    status: b.status,
    status_message: b.statusMessage ?? null,
    symbol: b.symbol,
    strategy: b.strategyName,
    timeframe: b.timeframe,
    virtual_balance: b.virtualBalance,
    cash: b.cash,
    total_value: b.totalValue,
    pnl: b.pnl,
    pnl_pct: b.virtualBalance > 0 ? (b.pnl / b.virtualBalance) * 100 : null,
    trades: b.trades,
    last_candle_ms: b.lastCandleMs ?? null,
    last_heartbeat_ms: b.lastHeartbeatMs ?? null,
  };
}

const HEADERS = [
  'BOT',
  'STATUS',
  'SYMBOL',
  'STRATEGY',
  'CASH',
  'VALUE',
  'P&L',
  'P&L %',
  'TRADES',
  'LAST CANDLE (UTC)',
];
/** Columns aligned right (numbers). */
const RIGHT = new Set([4, 5, 6, 7, 8]);

/** The bots as an aligned table, then the status message of each bot that has one. */
export function botsTable(list: readonly BotSummary[]): string {
  const rows = list.map((b) => [
    b.botKey,
    b.status,
    b.symbol,
    `${b.strategyName} ${b.timeframe}`,
    money(b.cash),
    money(b.totalValue),
    `${b.pnl > 0 ? '+' : ''}${money(b.pnl)}`,
    b.virtualBalance > 0 ? `${b.pnl > 0 ? '+' : ''}${((b.pnl / b.virtualBalance) * 100).toFixed(2)}` : '',
    String(b.trades),
    b.lastCandleMs === undefined
      ? '-'
      : new Date(b.lastCandleMs).toISOString().slice(0, 16).replace('T', ' '),
  ]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (RIGHT.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const notes = list
    .filter((b) => b.statusMessage !== undefined)
    .map((b) => `${b.botKey} (${b.status}): ${b.statusMessage ?? ''}`);
  return [line(HEADERS), ...rows.map(line), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n') + '\n';
}

/** Quote-currency amounts with 2 decimals (−0.00 printed as 0.00). */
function money(x: number): string {
  const s = x.toFixed(2);
  return s === '-0.00' ? '0.00' : s;
}
