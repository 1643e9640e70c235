import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { UsageError } from '../domain/errors.js';
import {
  defaultStrategyRegistry,
  describeIssues,
  parseParameters,
  type StrategyRegistry,
} from './registry.js';
import type { Strategy } from './strategy.js';

/**
 * A strategy file, as in the requirements: `{"strategy_name": "EMA_Crossover", "parameters": {...}}`.
 * Unknown keys are errors, at the top and in `parameters`; a missing parameter takes its default, and so
 * does a missing `parameters`.
 */
const strategyFileSchema = z
  .object({
    strategy_name: z.string().min(1),
    parameters: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export interface StrategyConfig {
  /** Where it came from (a file path). */
  readonly source: string;
  /** Registry name (`ema_crossover`), whatever the file's spelling. */
  readonly strategyName: string;
  /** Validated, defaults filled in, frozen. */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly strategy: Strategy;
}

/**
 * Reads a strategy file and builds its strategy. Every problem is a UsageError naming the file and the key:
 * `config/strategies/x.json: parameters.fast_period: Invalid input: expected number, received string`.
 */
export function loadStrategyFile(path: string, registry = defaultStrategyRegistry()): StrategyConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${path}: cannot read the strategy file: ${(err as Error).message}`, { cause: err });
  }
  return parseStrategyConfig(text, path, registry);
}

/** Parses the text of a strategy file; `source` names it in errors. */
export function parseStrategyConfig(
  text: string,
  source: string,
  registry: StrategyRegistry = defaultStrategyRegistry(),
): StrategyConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${source}: invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  const file = strategyFileSchema.safeParse(json);
  if (!file.success) {
    throw new UsageError(`${source}: ${describeIssues(file.error, [], ['strategy_name', 'parameters'])}`);
  }
  const { strategy_name: name, parameters } = file.data;
  const definition = registry.find(name);
  if (definition === undefined) {
    throw new UsageError(
      `${source}: strategy_name: unknown strategy "${name}" (known: ${registry.listing()})`,
    );
  }
  const params = parseParameters(definition, parameters, source) as Record<string, unknown>;
  return Object.freeze({
    source,
    strategyName: definition.name,
    parameters: params,
    strategy: definition.create(params),
  });
}

/** Loads every `*.json` in `dir`, in file-name order. */
export function loadStrategyDir(dir: string, registry = defaultStrategyRegistry()): StrategyConfig[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch (err) {
    throw new UsageError(`${dir}: cannot list strategy files: ${(err as Error).message}`, { cause: err });
  }
  return names.sort().map((n) => loadStrategyFile(join(dir, n), registry));
}
