import { createHash } from 'node:crypto';
import * as z from 'zod';
import { UsageError } from '../domain/errors.js';
import { TIMEFRAMES, type Timeframe } from '../domain/timeframe.js';
import {
  DEFAULT_SIZING,
  parseRiskConfig,
  parseVenueModel,
  riskConfigSchema,
  venueModelSchema,
  type RiskConfig,
  type VenueModel,
} from '../domain/trading/config.js';
import { describeIssues, parseParameters, type StrategyRegistry } from '../strategies/registry.js';
import { describeNestedIssues } from './configIssues.js';

/**
 * A bot id: lower-case letters, digits, `_` and `-`, 1–64 characters, starting with a letter or a digit. It
 * becomes part of bus channels (`signals:{bot_id}`) and file names, so nothing else is allowed (no `/`,
 * no `..`, no spaces, no `*` that a channel pattern would read as a wildcard).
 */
export const BOT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** An OKX spot instrument id (`BTC-USDT`): what bots trade (long-only spot). */
export const BOT_SYMBOL_PATTERN = /^[A-Z0-9]{1,20}-[A-Z0-9]{1,20}$/;

/**
 * A bot file (`config/bots/*.json`, `*.yaml`, `*.yml`), in the requirements' format. Strict: an unknown key,
 * here or inside `parameters`, `risk` or `venue`, is an error naming the file, the key path and the accepted
 * keys.
 *
 * ```yaml
 * bot_id: btc-ema-fast          # the bot's identity (not the file name)
 * strategy: ema_crossover       # a registry name, or:
 * # strategy_file: ema_crossover.json   # config/strategies/…, or a path relative to this file
 * symbol: BTC-USDT
 * timeframe: 1m                 # the strategy's decision timeframe (default: the parameters', else 1m)
 * virtual_balance: 10000
 * enabled: true                 # default true
 * parameters: { fast_period: 5, slow_period: 13 }   # over the strategy file's; defaults fill the rest
 * risk: { sizing: { type: equity, percentage: 95 }, stop_loss_percentage: 1 }      # as backtests
 * venue: { fee_rate: 0.001 }                                                          # as backtests
 * reset: false                  # true: on reload, start over from virtual_balance (no positions)
 * ```
 */
export const botFileSchema = z.strictObject({
  bot_id: z
    .string()
    .regex(
      BOT_ID_PATTERN,
      'use 1 to 64 lower-case letters, digits, "_" or "-", starting with a letter or digit',
    ),
  strategy: z.string().min(1).optional(),
  strategy_file: z.string().min(1).optional(),
  symbol: z
    .string()
    .regex(BOT_SYMBOL_PATTERN, 'use an OKX spot instrument id in upper case, such as BTC-USDT'),
  timeframe: z.enum(TIMEFRAMES).optional(),
  virtual_balance: z.number().finite().positive(),
  enabled: z.boolean().default(true),
  parameters: z.record(z.string(), z.unknown()).optional(),
  risk: z.record(z.string(), z.unknown()).optional(),
  venue: z.record(z.string(), z.unknown()).optional(),
  reset: z.boolean().default(false),
});

export type BotFile = z.output<typeof botFileSchema>;

/** A validated bot configuration: frozen, every default filled in. */
export interface BotConfig {
  /** The bot's identity (`bot_id`): the key of its `bots` row (`bots.name`) and of its bus channels. */
  readonly botId: string;
  /** Registry name (`ema_crossover`), whatever the file's spelling. */
  readonly strategyName: string;
  /** The strategy file `strategy_file` led to, when the file had one. */
  readonly strategyFile?: string;
  /** Validated by the strategy's schema, defaults filled in; `parameters.timeframe` equals `timeframe`. */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  /** Starting cash, quote currency. */
  readonly virtualBalance: number;
  readonly enabled: boolean;
  /** On reload: start over from `virtualBalance` instead of keeping the balance and positions. */
  readonly reset: boolean;
  /** Parsed as backtests parse theirs (sizing defaults to `DEFAULT_SIZING`). */
  readonly risk: RiskConfig;
  readonly venue: VenueModel;
  /** The bot file. */
  readonly source: string;
  /** sha256 (hex) of the bot file's bytes and its strategy file's: equal hashes, equal configs. */
  readonly contentHash: string;
}

/**
 * A bot configuration as a self-contained bot file (every default written out, `strategy` by name, the
 * strategy file's parameters merged in): what `config_history` and `bots.config` store. Parsing it again
 * gives the same configuration.
 */
export interface BotConfigDocument {
  readonly bot_id: string;
  readonly strategy: string;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly virtual_balance: number;
  readonly enabled: boolean;
  readonly reset: boolean;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly risk: RiskConfig;
  readonly venue: VenueModel;
}

export function botConfigDocument(c: BotConfig): BotConfigDocument {
  return {
    bot_id: c.botId,
    strategy: c.strategyName,
    symbol: c.symbol,
    timeframe: c.timeframe,
    virtual_balance: c.virtualBalance,
    enabled: c.enabled,
    reset: c.reset,
    parameters: c.parameters,
    risk: c.risk,
    venue: c.venue,
  };
}

/** The strategy file a bot file refers to, already read (`resolveStrategyFile` in botConfigFiles.ts). */
export interface StrategyFileText {
  readonly path: string;
  readonly text: string;
}

const STRATEGY_FILE_SCHEMA = z.strictObject({
  strategy_name: z.string().min(1),
  parameters: z.record(z.string(), z.unknown()).default({}),
});

/** The file's text as data: JSON for `.json`, YAML for `.yaml`/`.yml`. Errors name the file (and the line). */
export async function parseBotFileText(text: string, file: string): Promise<unknown> {
  if (/\.json$/i.test(file)) {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new UsageError(`${file}: invalid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  const { parse } = await import('yaml');
  try {
    return parse(text) as unknown;
  } catch (err) {
    // yaml's messages end with a code excerpt over several lines: keep the first ("… at line 3, column 5").
    const first = ((err as Error).message.split('\n')[0] ?? '').replace(/:\s*$/, '');
    throw new UsageError(`${file}: invalid YAML: ${first}`, { cause: err });
  }
}

/** `bot_id` of a parsed file when it is readable and valid (for error records). */
export function botIdOf(data: unknown): string | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const id = (data as Record<string, unknown>).bot_id;
  return typeof id === 'string' && BOT_ID_PATTERN.test(id) ? id : undefined;
}

/**
 * The `strategy_file` a parsed bot file names, to read before `validateBotFile` (none when the file also
 * names a `strategy`: that is an error validateBotFile reports).
 */
export function strategyFileRef(data: unknown): string | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const { strategy, strategy_file: ref } = data as Record<string, unknown>;
  if (strategy !== undefined) return undefined;
  return typeof ref === 'string' && ref.length > 0 ? ref : undefined;
}

export interface ValidateBotFileOptions {
  /** Where the data came from (a file path): named in every error and kept as `source`. */
  readonly source: string;
  /** The bot file's text, for the content hash. */
  readonly text: string;
  /** The strategy file `strategy_file` names, read (required when the data has one). */
  readonly strategyFile?: StrategyFileText;
  readonly registry: StrategyRegistry;
}

/**
 * Validates a parsed bot file and returns its frozen BotConfig. Every problem is a UsageError naming the
 * file and the key path: `config/bots/x.yaml: risk.sizing.quantiy: unknown key (accepted: type, quantity)`.
 */
export function validateBotFile(data: unknown, options: ValidateBotFileOptions): BotConfig {
  const { source: file, registry } = options;
  const parsed = botFileSchema.safeParse(data);
  if (!parsed.success) {
    throw new UsageError(`${file}: ${describeNestedIssues(parsed.error, [], botFileSchema, data)}`);
  }
  const bot = parsed.data;

  let strategyName: string;
  let fileParameters: Record<string, unknown> = {};
  if (bot.strategy !== undefined && bot.strategy_file !== undefined) {
    throw new UsageError(`${file}: give strategy or strategy_file, not both`);
  }
  if (bot.strategy_file !== undefined) {
    const sf = options.strategyFile;
    if (sf === undefined) throw new UsageError(`${file}: strategy_file: the strategy file was not read`);
    const strategy = parseStrategyFile(sf, registry);
    strategyName = strategy.name;
    fileParameters = strategy.parameters;
  } else if (bot.strategy !== undefined) {
    const definition = registry.find(bot.strategy);
    if (definition === undefined) {
      throw new UsageError(
        `${file}: strategy: unknown strategy "${bot.strategy}" (known: ${registry.listing()})`,
      );
    }
    strategyName = definition.name;
  } else {
    throw new UsageError(
      `${file}: give strategy (one of ${registry.names().join(', ')}) or strategy_file (a file in the config folder's strategies/)`,
    );
  }

  // The bot's timeframe is the strategy's decision timeframe; it wins over a strategy file's, but the
  // bot file must not say two things.
  const own = bot.parameters?.timeframe;
  if (bot.timeframe !== undefined && own !== undefined && own !== bot.timeframe) {
    throw new UsageError(
      `${file}: timeframe ${bot.timeframe} and parameters.timeframe ${String(own)} differ: give one`,
    );
  }
  const merged: Record<string, unknown> = { ...fileParameters, ...(bot.parameters ?? {}) };
  if (bot.timeframe !== undefined) merged.timeframe = bot.timeframe;
  const definition = registry.get(strategyName);
  const parameters = parseParameters(definition, merged, file) as Record<string, unknown>;
  const timeframe = parameters.timeframe as Timeframe;

  const riskInput = { sizing: DEFAULT_SIZING, ...(bot.risk ?? {}) };
  const risk = parseNested(() => parseRiskConfig(riskInput), riskConfigSchema, riskInput, file, 'risk');
  const venueInput = bot.venue ?? {};
  const venue = parseNested(() => parseVenueModel(venueInput), venueModelSchema, venueInput, file, 'venue');

  const hash = createHash('sha256').update(options.text);
  if (options.strategyFile !== undefined) hash.update('\0').update(options.strategyFile.text);

  return deepFreeze({
    botId: bot.bot_id,
    strategyName,
    ...(options.strategyFile !== undefined ? { strategyFile: options.strategyFile.path } : {}),
    parameters,
    symbol: bot.symbol,
    timeframe,
    virtualBalance: bot.virtual_balance,
    enabled: bot.enabled,
    reset: bot.reset,
    risk,
    venue,
    source: file,
    contentHash: hash.digest('hex'),
  });
}

/** A strategy file's strategy and parameters (as written; the bot file's are merged over them). */
function parseStrategyFile(
  sf: StrategyFileText,
  registry: StrategyRegistry,
): { name: string; parameters: Record<string, unknown> } {
  let json: unknown;
  try {
    json = JSON.parse(sf.text);
  } catch (err) {
    throw new UsageError(`${sf.path}: invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  const file = STRATEGY_FILE_SCHEMA.safeParse(json);
  if (!file.success) {
    throw new UsageError(`${sf.path}: ${describeIssues(file.error, [], ['strategy_name', 'parameters'])}`);
  }
  const definition = registry.find(file.data.strategy_name);
  if (definition === undefined) {
    throw new UsageError(
      `${sf.path}: strategy_name: unknown strategy "${file.data.strategy_name}" (known: ${registry.listing()})`,
    );
  }
  // Checked on their own first, so a bad key in the strategy file is reported against that file.
  parseParameters(definition, file.data.parameters, sf.path);
  return { name: definition.name, parameters: file.data.parameters };
}

function parseNested<T>(parse: () => T, schema: z.ZodType, input: unknown, file: string, key: string): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof z.ZodError) {
      throw new UsageError(`${file}: ${describeNestedIssues(err, [key], schema, input)}`, { cause: err });
    }
    throw err;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
