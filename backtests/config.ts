import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { UsageError } from '../src/domain/errors.js';
import {
  DEFAULT_SIZING,
  parseRiskConfig,
  parseVenueModel,
  riskConfigSchema,
  venueModelSchema,
  type RiskConfig,
  type RiskConfigInput,
  type VenueModel,
  type VenueModelInput,
} from '../src/domain/trading/config.js';
import {
  defaultStrategyRegistry,
  describeIssues,
  type StrategyRegistry,
} from '../src/strategies/registry.js';
import type { Strategy } from '../src/strategies/strategy.js';

export { DEFAULT_SIZING } from '../src/domain/trading/config.js';

/**
 * A backtest's settings: a config file (all keys optional, strict) overridden by command-line flags.
 *
 * ```json
 * { "strategy_name": "EMA_Crossover", "parameters": { "fast_period": 12, "slow_period": 26 },
 *   "risk": { "sizing": { "type": "equity", "percentage": 95 }, "stop_loss_percentage": 2 },
 *   "venue": { "fee_rate": 0.001, "slippage": { "type": "fixed", "bps": 2 } },
 *   "initial_balance": 10000 }
 * ```
 * A strategy file (`config/strategies/*.json`: `strategy_name` + `parameters`) is a valid config file.
 */
const backtestFileSchema = z.strictObject({
  strategy_name: z.string().min(1).optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  risk: z.record(z.string(), z.unknown()).optional(),
  venue: z.record(z.string(), z.unknown()).optional(),
  initial_balance: z.number().finite().positive().optional(),
});

export type BacktestFile = z.output<typeof backtestFileSchema>;

/** What the flags say (strings as typed; undefined when not given). */
export interface BacktestSettingsInput {
  readonly strategy?: string;
  readonly params?: string;
  readonly config?: string;
  readonly balance?: string;
  readonly fee?: string;
  readonly slippageBps?: string;
  readonly sizing?: string;
}

export interface BacktestSettings {
  readonly strategy: Strategy;
  readonly strategyName: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  /** Whether `timeframe` was set (--params or the config's parameters) rather than left at its default. */
  readonly timeframeGiven: boolean;
  readonly risk: RiskConfig;
  readonly venue: VenueModel;
  readonly initialCash: number;
}

export const DEFAULT_BALANCE = 10_000;
/** Slippage at or beyond the whole price would fill sells at zero or below. */
export const MAX_SLIPPAGE_BPS = 10_000;

/** Reads and validates a backtest config file; every problem names the file and the key. */
export function loadBacktestFile(path: string): BacktestFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--config ${path}: cannot read it: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--config ${path}: invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = backtestFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new UsageError(
      `--config ${path}: ${describeIssues(parsed.error, [], Object.keys(backtestFileSchema.shape))}`,
    );
  }
  return parsed.data;
}

/** `fixed:0.1`, `equity:95`, `risk:1` → the risk config's `sizing`. */
export function parseSizingSpec(spec: string): RiskConfigInput['sizing'] {
  const m = /^\s*(fixed|equity|risk)\s*:\s*([^\s]+)\s*$/i.exec(spec);
  const value = m === null ? Number.NaN : Number(m[2]);
  if (m === null || !(value > 0 && Number.isFinite(value))) {
    throw new UsageError(
      `--sizing "${spec}": use fixed:QUANTITY (base units), equity:PERCENT or risk:PERCENT, with a number > 0`,
    );
  }
  const type = (m[1] as string).toLowerCase();
  if (type === 'fixed') return { type: 'fixed', quantity: value };
  if (value > 100) throw new UsageError(`--sizing "${spec}": the percentage must be at most 100`);
  return type === 'equity' ? { type: 'equity', percentage: value } : { type: 'risk', percentage: value };
}

/** Builds the strategy, risk and venue from the config file and the flags (flags win). */
export function resolveBacktestSettings(
  input: BacktestSettingsInput,
  registry: StrategyRegistry = defaultStrategyRegistry(),
): BacktestSettings {
  const file: BacktestFile = input.config === undefined ? {} : loadBacktestFile(input.config);
  const where = input.config === undefined ? '' : `--config ${input.config}: `;

  const name = input.strategy ?? file.strategy_name;
  if (name === undefined) {
    throw new UsageError(`give --strategy NAME (or strategy_name in --config): one of ${registry.listing()}`);
  }
  const definition = registry.find(name);
  if (definition === undefined) {
    const flag = input.strategy !== undefined ? '--strategy' : `${where}strategy_name`;
    throw new UsageError(`${flag}: unknown strategy "${name}" (known: ${registry.listing()})`);
  }
  let flagParams: Record<string, unknown> = {};
  if (input.params !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(input.params);
    } catch (err) {
      throw new UsageError(`--params is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new UsageError(
        `--params must be a JSON object such as '{"fast_period": 9}', got ${input.params}`,
      );
    }
    flagParams = json as Record<string, unknown>;
  }
  // File parameters only apply to the strategy the file names.
  const fileParams =
    file.strategy_name === undefined || registry.find(file.strategy_name)?.name === definition.name
      ? (file.parameters ?? {})
      : {};
  const source = input.params !== undefined ? '--params' : `${where}parameters`;
  const params = { ...fileParams, ...flagParams };
  const strategy = registry.create(definition.name, params, source);

  const riskInput: Record<string, unknown> = { sizing: DEFAULT_SIZING, ...(file.risk ?? {}) };
  if (input.sizing !== undefined) riskInput.sizing = parseSizingSpec(input.sizing);
  const risk = parseWith(
    () => parseRiskConfig(riskInput),
    riskConfigSchema,
    `${input.sizing !== undefined ? '--sizing / ' : ''}${where}risk`,
    riskInput,
  );

  const venueInput: Record<string, unknown> = { ...(file.venue ?? {}) };
  if (input.fee !== undefined) {
    const fee = number(input.fee, '--fee');
    if (!(fee >= 0 && fee < 1))
      throw new UsageError(`--fee must be a fraction from 0 to 1 (0.001 = 0.1 %), got ${input.fee}`);
    venueInput.fee_rate = fee;
  }
  if (input.slippageBps !== undefined) {
    const bps = number(input.slippageBps, '--slippage-bps');
    if (!(bps >= 0 && bps < MAX_SLIPPAGE_BPS)) {
      throw new UsageError(
        `--slippage-bps must be from 0 to less than ${MAX_SLIPPAGE_BPS} (basis points: 100 = 1 %, ${MAX_SLIPPAGE_BPS} = the whole price), got ${input.slippageBps}`,
      );
    }
    venueInput.slippage = { type: 'fixed', bps };
  }
  const venue = parseWith(
    () => parseVenueModel(venueInput as VenueModelInput),
    venueModelSchema,
    `${where}venue`,
    venueInput,
  );

  let initialCash = file.initial_balance ?? DEFAULT_BALANCE;
  if (input.balance !== undefined) {
    initialCash = number(input.balance, '--balance');
    if (!(initialCash > 0)) throw new UsageError(`--balance must be > 0, got ${input.balance}`);
  }
  return {
    strategy,
    strategyName: definition.name,
    parameters: strategy.params,
    timeframeGiven: Object.hasOwn(params, 'timeframe'),
    risk,
    venue,
    initialCash,
  };
}

function number(text: string, flag: string): number {
  const v = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(v))
    throw new UsageError(`${flag} must be a number, got "${text}"`);
  return v;
}

/**
 * The same settings with the strategy deciding on `timeframe` (its other parameters unchanged): for data
 * whose candles are longer than the strategy's default timeframe.
 */
export function withStrategyTimeframe(
  settings: BacktestSettings,
  timeframe: string,
  registry: StrategyRegistry = defaultStrategyRegistry(),
): BacktestSettings {
  const strategy = registry.create(settings.strategyName, { ...settings.parameters, timeframe });
  return { ...settings, strategy, parameters: strategy.params };
}

function parseWith<T>(parse: () => T, schema: z.ZodType, where: string, input: unknown): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof z.ZodError) {
      // An unknown key lists the keys accepted where it was found (a take_profit entry's, not risk's).
      const lines = err.issues.slice(0, 3).map((issue) => {
        const known = issue.code === 'unrecognized_keys' ? keysAt(schema, issue.path, input) : [];
        return describeIssues(new z.ZodError([issue]), [], known);
      });
      throw new UsageError(`${where}: ${lines.join('; ')}`, { cause: err });
    }
    throw err;
  }
}

/** The keys the object schema at `path` accepts (a union member chosen by the input's discriminator). */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[], input: unknown): string[] {
  let s: unknown = schema;
  let v: unknown = input;
  for (let i = 0; ; i++) {
    s = unwrap(s, v);
    if (i === path.length) break;
    const key = path[i] as PropertyKey;
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
    if (s instanceof z.ZodObject) s = (s.shape as Record<PropertyKey, unknown>)[key];
    else if (s instanceof z.ZodArray) s = s.element;
    else return [];
  }
  return s instanceof z.ZodObject ? Object.keys(s.shape as object) : [];
}

function unwrap(schema: unknown, input: unknown): unknown {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap();
    else if (s instanceof z.ZodDiscriminatedUnion) {
      const tagKey = s.def.discriminator;
      const tag =
        input !== null && typeof input === 'object' ? (input as Record<string, unknown>)[tagKey] : undefined;
      const options = s.options as readonly z.ZodType[];
      const match = options.find((o) => {
        const literal = o instanceof z.ZodObject ? (o.shape as Record<string, unknown>)[tagKey] : undefined;
        return literal instanceof z.ZodLiteral && (literal.values as ReadonlySet<unknown>).has(tag);
      });
      return match ?? options[0];
    } else return s;
  }
}
