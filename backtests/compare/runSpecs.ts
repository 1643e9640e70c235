import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import * as z from 'zod';
import { UsageError } from '../../src/domain/errors.js';
import { describeIssues } from '../../src/strategies/registry.js';

/** One strategy of a comparison: its name, the parameters given (the rest take defaults), a label. */
export interface RunSpec {
  readonly label: string;
  readonly strategy: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** Where it was given (`--run #2`, `--runs runs.yaml: runs[1]`), for error messages. */
  readonly where: string;
}

const RUN_RE = /^\s*(?:([A-Za-z0-9_.-]+)=)?([A-Za-z][A-Za-z0-9_-]*)\s*(?::([\s\S]*))?$/;

/**
 * `--run [LABEL=]STRATEGY[:JSON]`: `sma_cross`, `sma_cross:{"fast_period":10}`,
 * `fast=sma_cross:{"fast_period":5}`. Without a label a run is named after its strategy and the
 * parameters given (`sma_cross fast_period=10`).
 */
export function parseRunFlag(text: string, index: number): RunSpec {
  const where = `--run #${index + 1}`;
  const m = RUN_RE.exec(text);
  if (m === null) {
    throw new UsageError(
      `${where} "${text}": use STRATEGY, STRATEGY:JSON or LABEL=STRATEGY:JSON, e.g. 'sma_cross:{"fast_period":10}'`,
    );
  }
  const strategy = m[2] as string;
  let params: Record<string, unknown> = {};
  const json = m[3]?.trim();
  if (json !== undefined && json !== '') {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (err) {
      throw new UsageError(
        `${where} "${text}": the parameters are not valid JSON: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new UsageError(
        `${where} "${text}": the parameters must be a JSON object such as {"fast_period":10}`,
      );
    }
    params = value as Record<string, unknown>;
  }
  return { label: m[1] ?? defaultLabel(strategy, params), strategy, params, where };
}

const runEntry = z.strictObject({
  strategy: z.string().min(1),
  params: z.record(z.string(), z.unknown()).optional(),
  label: z.string().min(1).optional(),
});
const runsFileSchema = z.union([
  z.strictObject({ runs: z.array(runEntry).min(1) }),
  z.array(runEntry).min(1),
]);

/**
 * `--runs FILE` (YAML or JSON): a list of `{ strategy, params?, label? }`, or `{ runs: [...] }`.
 *
 * ```yaml
 * runs:
 *   - strategy: sma_cross
 *     params: { fast_period: 10, slow_period: 30 }
 *   - { label: ema, strategy: ema_crossover }
 * ```
 */
export function loadRunsFile(path: string): RunSpec[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--runs ${path}: cannot read it: ${(err as Error).message}`, { cause: err });
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new UsageError(`--runs ${path}: not valid YAML or JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = runsFileSchema.safeParse(value);
  if (!parsed.success) {
    // Report against the list form's schema: the likelier intent, and the one that names the entry.
    const list = Array.isArray(value) ? value : (value as { runs?: unknown } | null)?.runs;
    const again = z.array(runEntry).min(1).safeParse(list);
    const error = again.success ? parsed.error : again.error;
    throw new UsageError(
      `--runs ${path}: ${describeIssues(error, Array.isArray(value) ? [] : ['runs'], Object.keys(runEntry.shape))} ` +
        '(expected a list of { strategy, params, label }, or { runs: [...] })',
    );
  }
  const entries = Array.isArray(parsed.data) ? parsed.data : parsed.data.runs;
  return entries.map((e, i) => ({
    label: e.label ?? defaultLabel(e.strategy, e.params ?? {}),
    strategy: e.strategy,
    params: e.params ?? {},
    where: `--runs ${path}: runs[${i}]`,
  }));
}

/**
 * The yaml package, loaded when a runs file is read: it is 72 CommonJS files, which every command importing
 * backtests/ (a plain `rxtrade backtest` too) would otherwise load at start-up.
 */
function parseYaml(text: string): unknown {
  return (createRequire(import.meta.url)('yaml') as typeof Yaml).parse(text);
}

/** Labels must tell the runs apart: a repeated one gets ` #2`, ` #3`… */
export function uniqueLabels(runs: readonly RunSpec[]): RunSpec[] {
  const seen = new Map<string, number>();
  return runs.map((r) => {
    const k = (seen.get(r.label) ?? 0) + 1;
    seen.set(r.label, k);
    return k === 1 ? r : { ...r, label: `${r.label} #${k}` };
  });
}

function defaultLabel(strategy: string, params: Readonly<Record<string, unknown>>): string {
  const given = Object.entries(params).map(
    ([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
  return given.length === 0 ? strategy : `${strategy} ${given.join(',')}`;
}
