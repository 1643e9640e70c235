import { UsageError } from '../src/domain/errors.js';

/**
 * Parameter grids for `rxtrade optimize`: `--grid 'fast_period=5:50:5,slow_period=20:200:20'` and
 * constraints such as `--constraint 'fast_period < slow_period'`.
 */

export type GridValue = number | string;

/** One parameter of a grid and the values it takes, in order. */
export interface GridAxis {
  readonly name: string;
  readonly values: readonly GridValue[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** A range longer than this is a typo (a step of 0.0001 over 1..100), not a search. */
export const MAX_AXIS_VALUES = 10_000;
export const MAX_COMBINATIONS = 1_000_000;

/**
 * `name=a:b:step` (a, a+step, … up to b inclusive), `name=a,b,c` (a list: the commas after a value that
 * have no `=` continue it), `name=v` (fixed). Numbers are numbers; anything else (`timeframe=5m,15m`) is a
 * string. Every error names the part of the grid at fault.
 */
export function parseGrid(spec: string, flag = '--grid'): GridAxis[] {
  const tokens = spec.split(',').map((t) => t.trim());
  const axes: { name: string; values: GridValue[] }[] = [];
  for (const token of tokens) {
    if (token === '') {
      throw new UsageError(`${flag} "${spec}": an empty value (two commas in a row, or one at an end)`);
    }
    const eq = token.indexOf('=');
    if (eq < 0) {
      const last = axes[axes.length - 1];
      if (last === undefined) {
        throw new UsageError(
          `${flag} "${spec}": "${token}" has no parameter name: use name=a:b:step or name=a,b,c`,
        );
      }
      last.values.push(...values(token, last.name, spec, flag));
      continue;
    }
    const name = token.slice(0, eq).trim();
    if (!NAME.test(name)) {
      throw new UsageError(`${flag} "${spec}": "${name}" in "${token}" is not a parameter name`);
    }
    if (axes.some((a) => a.name === name)) {
      throw new UsageError(`${flag} "${spec}": ${name} is given twice`);
    }
    axes.push({ name, values: values(token.slice(eq + 1).trim(), name, spec, flag) });
  }
  for (const a of axes) {
    const seen = new Set<GridValue>();
    for (const v of a.values) {
      if (seen.has(v)) throw new UsageError(`${flag} "${spec}": ${a.name} takes ${v} twice`);
      seen.add(v);
    }
    if (a.values.length > MAX_AXIS_VALUES) {
      throw new UsageError(
        `${flag} "${spec}": ${a.name} takes ${a.values.length} values (at most ${MAX_AXIS_VALUES})`,
      );
    }
  }
  return axes;
}

function values(text: string, name: string, spec: string, flag: string): GridValue[] {
  const where = `${flag} "${spec}": ${name}=${text}`;
  if (text === '') throw new UsageError(`${where}: no value`);
  if (!text.includes(':')) return [NUMBER.test(text) ? Number(text) : text];
  const parts = text.split(':').map((p) => p.trim());
  if (parts.length !== 3) throw new UsageError(`${where}: a range is start:stop:step (three numbers)`);
  const [a, b, step] = parts.map((p) => (NUMBER.test(p) ? Number(p) : Number.NaN)) as [
    number,
    number,
    number,
  ];
  const bad = parts.find((p) => !NUMBER.test(p));
  if (bad !== undefined) throw new UsageError(`${where}: "${bad}" is not a number`);
  if (!(step > 0)) throw new UsageError(`${where}: the step must be > 0, got ${parts[2]}`);
  if (b < a) throw new UsageError(`${where}: the stop ${b} is below the start ${a}`);
  const count = Math.floor((b - a) / step + 1e-9) + 1;
  if (count > MAX_AXIS_VALUES) {
    throw new UsageError(`${where}: ${count} values (at most ${MAX_AXIS_VALUES}): use a larger step`);
  }
  // a + i·step, rounded to the decimals written, so 0.1:0.3:0.1 gives 0.1, 0.2, 0.3 (not 0.30000000000000004).
  const places = Math.max(...parts.map(decimals));
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(Number((a + i * step).toFixed(places)));
  return out;
}

function decimals(text: string): number {
  const m = /\.(\d+)/.exec(text);
  return m === null ? 0 : Math.min(15, (m[1] as string).length);
}

/** Parameters of one combination. */
export type Combination = Readonly<Record<string, GridValue>>;

/** Every combination, the last axis varying fastest, kept when every constraint holds. */
export function combinations(
  axes: readonly GridAxis[],
  constraints: readonly Constraint[] = [],
): Combination[] {
  let total = 1;
  for (const a of axes) total *= a.values.length;
  if (total > MAX_COMBINATIONS) {
    throw new UsageError(`--grid: ${total} combinations (at most ${MAX_COMBINATIONS}): use fewer values`);
  }
  const out: Combination[] = [];
  const current: Record<string, GridValue> = {};
  const walk = (k: number): void => {
    if (k === axes.length) {
      const combo = { ...current };
      if (constraints.every((c) => c.holds(combo))) out.push(combo);
      return;
    }
    const axis = axes[k] as GridAxis;
    for (const v of axis.values) {
      current[axis.name] = v;
      walk(k + 1);
    }
  };
  walk(0);
  return out;
}

/** A condition on a combination's parameters. */
export interface Constraint {
  readonly text: string;
  holds(params: Readonly<Record<string, unknown>>): boolean;
}

type Node =
  | { readonly kind: 'num'; readonly value: number }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'op'; readonly op: string; readonly left: Node; readonly right: Node }
  | { readonly kind: 'not'; readonly arg: Node };

const TOKEN =
  /\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|==|!=|&&|\|\||[<>=+\-*/%()!]))/y;

/**
 * `fast_period < slow_period`, `slow_period >= 2 * fast_period and atr_period != 14`: numbers, parameter
 * names, + − * / %, comparisons (< <= > >= == = !=), and/&&, or/||, not/!, parentheses. `names` are the
 * parameters it may use (the grid's and the strategy's); an unknown one, or a bad token, is a UsageError
 * naming it. A parameter not in the combination reads as NaN (every comparison with it fails).
 */
export function parseConstraint(text: string, names: readonly string[], flag = '--constraint'): Constraint {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    if (text.slice(pos).trim() === '') break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (m === null) {
      throw new UsageError(`${flag} "${text}": cannot read "${text.slice(pos).trim()}"`);
    }
    tokens.push((m[1] ?? m[2] ?? m[3]) as string);
    pos = TOKEN.lastIndex;
  }
  let i = 0;
  const fail = (what: string): never => {
    throw new UsageError(`${flag} "${text}": ${what}`);
  };
  const peek = (): string | undefined => tokens[i];
  const lower = (t: string | undefined): string | undefined => t?.toLowerCase();
  const parseOr = (): Node => {
    let left = parseAnd();
    while (peek() === '||' || lower(peek()) === 'or') {
      i++;
      left = { kind: 'op', op: '||', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): Node => {
    let left = parseNot();
    while (peek() === '&&' || lower(peek()) === 'and') {
      i++;
      left = { kind: 'op', op: '&&', left, right: parseNot() };
    }
    return left;
  };
  const parseNot = (): Node => {
    if (peek() === '!' || lower(peek()) === 'not') {
      i++;
      return { kind: 'not', arg: parseNot() };
    }
    return parseCompare();
  };
  const parseCompare = (): Node => {
    const left = parseSum();
    const op = peek();
    if (op === '<' || op === '<=' || op === '>' || op === '>=' || op === '==' || op === '=' || op === '!=') {
      i++;
      return { kind: 'op', op: op === '=' ? '==' : op, left, right: parseSum() };
    }
    return left;
  };
  const parseSum = (): Node => {
    let left = parseProduct();
    while (peek() === '+' || peek() === '-') {
      const op = tokens[i++] as string;
      left = { kind: 'op', op, left, right: parseProduct() };
    }
    return left;
  };
  const parseProduct = (): Node => {
    let left = parseAtom();
    while (peek() === '*' || peek() === '/' || peek() === '%') {
      const op = tokens[i++] as string;
      left = { kind: 'op', op, left, right: parseAtom() };
    }
    return left;
  };
  const parseAtom = (): Node => {
    const t = tokens[i++];
    if (t === undefined) return fail('it ends too early');
    if (t === '(') {
      const inner = parseOr();
      if (tokens[i++] !== ')') fail('a "(" is not closed');
      return inner;
    }
    if (t === '-') return { kind: 'op', op: '-', left: { kind: 'num', value: 0 }, right: parseAtom() };
    if (/^[\d.]/.test(t)) return { kind: 'num', value: Number(t) };
    if (/^[A-Za-z_]/.test(t) && !['and', 'or', 'not'].includes(t.toLowerCase())) {
      if (!names.includes(t)) fail(`unknown parameter "${t}" (known: ${names.join(', ')})`);
      return { kind: 'name', name: t };
    }
    return fail(`unexpected "${t}"`);
  };
  if (tokens.length === 0) fail('it is empty');
  const tree = parseOr();
  if (i < tokens.length) fail(`unexpected "${tokens[i]}"`);
  if (!isCondition(tree)) fail('it is not a condition (compare with <, <=, >, >=, ==, !=)');
  return { text, holds: (params) => truthy(evaluate(tree, params)) };
}

function isCondition(n: Node): boolean {
  if (n.kind === 'not') return true;
  if (n.kind !== 'op') return false;
  return ['<', '<=', '>', '>=', '==', '!=', '&&', '||'].includes(n.op);
}

function truthy(v: number | boolean): boolean {
  return typeof v === 'boolean' ? v : v !== 0 && !Number.isNaN(v);
}

function evaluate(n: Node, params: Readonly<Record<string, unknown>>): number | boolean {
  switch (n.kind) {
    case 'num':
      return n.value;
    case 'name': {
      const v = params[n.name];
      return typeof v === 'number' ? v : Number.NaN;
    }
    case 'not':
      return !truthy(evaluate(n.arg, params));
    case 'op': {
      if (n.op === '&&') return truthy(evaluate(n.left, params)) && truthy(evaluate(n.right, params));
      if (n.op === '||') return truthy(evaluate(n.left, params)) || truthy(evaluate(n.right, params));
      const a = Number(evaluate(n.left, params));
      const b = Number(evaluate(n.right, params));
      switch (n.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          return a / b;
        case '%':
          return a % b;
        case '<':
          return a < b;
        case '<=':
          return a <= b;
        case '>':
          return a > b;
        case '>=':
          return a >= b;
        case '==':
          return a === b;
        default:
          return a !== b;
      }
    }
  }
}
