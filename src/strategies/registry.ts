import * as z from 'zod';
import { UsageError } from '../domain/errors.js';
import { bollingerBreakout } from './bollingerBreakout.js';
import { emaCrossover } from './emaCrossover.js';
import { macdTrend } from './macdTrend.js';
import { momentum } from './momentum.js';
import { rsiReversion } from './rsiReversion.js';
import { smaCross } from './smaCross.js';
import type { Strategy, StrategyDefinition } from './strategy.js';

/** The built-in strategies, in listing order. */
export const BUILT_IN_STRATEGIES: readonly StrategyDefinition<object>[] = [
  emaCrossover,
  smaCross,
  rsiReversion,
  macdTrend,
  bollingerBreakout,
  momentum,
] as unknown as readonly StrategyDefinition<object>[];

/** `EMA_Crossover`, `ema-crossover`, `ema crossover` → `ema_crossover`. */
export function normalizeStrategyName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

/**
 * Strategies by name. Names are matched case-insensitively, with `-` or spaces for `_`, so the
 * requirements' `EMA_Crossover` finds `ema_crossover`. Custom strategies are added with `register`.
 */
export class StrategyRegistry {
  private readonly byName = new Map<string, StrategyDefinition<object>>();

  constructor(definitions: readonly StrategyDefinition<object>[] = []) {
    for (const d of definitions) this.register(d);
  }

  register<P extends object>(definition: StrategyDefinition<P>): this {
    const key = normalizeStrategyName(definition.name);
    if (this.byName.has(key)) throw new UsageError(`strategy ${definition.name} is already registered`);
    this.byName.set(key, definition as unknown as StrategyDefinition<object>);
    return this;
  }

  /** Registry names, in registration order. */
  names(): string[] {
    return [...this.byName.values()].map((d) => d.name);
  }

  find(name: string): StrategyDefinition<object> | undefined {
    return this.byName.get(normalizeStrategyName(name));
  }

  get(name: string): StrategyDefinition<object> {
    const d = this.find(name);
    if (d === undefined) throw new UsageError(`unknown strategy "${name}": use one of ${this.listing()}`);
    return d;
  }

  /** Validates `params` (missing ones take their defaults) and builds the strategy. `where` prefixes
   *  errors (a file name): `where: parameters.fast_period: …`. */
  create(name: string, params: unknown, where = `strategy ${name}`): Strategy {
    const d = this.get(name);
    return d.create(parseParameters(d, params, where));
  }

  /** `EMA_Crossover (ema_crossover), …` for error messages. */
  listing(): string {
    return [...this.byName.values()].map((d) => d.displayName).join(', ');
  }
}

/** A registry holding the six built-in strategies. */
export function defaultStrategyRegistry(): StrategyRegistry {
  return new StrategyRegistry(BUILT_IN_STRATEGIES);
}

/** Parses a strategy's parameters with its schema; a problem becomes a UsageError naming the key. */
export function parseParameters<P extends object>(
  definition: StrategyDefinition<P>,
  params: unknown,
  where: string,
  path: readonly string[] = ['parameters'],
): P {
  const parsed = definition.schema.safeParse(params ?? {});
  if (parsed.success) return Object.freeze(parsed.data);
  throw new UsageError(`${where}: ${describeIssues(parsed.error, path, parameterNames(definition))}`);
}

/** The parameter names a definition accepts (its schema's keys), for error messages. */
export function parameterNames(definition: StrategyDefinition<object>): string[] {
  const s = definition.schema as unknown;
  return s instanceof z.ZodObject ? Object.keys(s.shape as object) : [];
}

/** Zod issues as `parameters.fast_period: expected number, received string`, unknown keys named. */
export function describeIssues(
  error: z.ZodError,
  prefix: readonly string[],
  known: readonly string[] = [],
): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const at = [...prefix, ...issue.path.map(String)];
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => [...at, k].join('.'));
        const accepted = known.length > 0 ? ` (accepted: ${known.join(', ')})` : '';
        return `${keys.join(', ')}: unknown key${keys.length > 1 ? 's' : ''}${accepted}`;
      }
      return `${at.length > 0 ? at.join('.') : '(file)'}: ${issue.message}`;
    })
    .join('; ');
}
