import * as z from 'zod';
import { describeIssues } from '../strategies/registry.js';

/**
 * Zod issues of a nested config as one line, like `describeIssues`, but an unknown key lists the keys
 * accepted WHERE it was found (`risk.sizing.quantiy: unknown key (accepted: type, quantity)`), not the
 * top level's. `input` is what was parsed: it picks the branch of a discriminated union (`sizing.type`).
 */
export function describeNestedIssues(
  error: z.ZodError,
  prefix: readonly string[],
  schema: z.ZodType,
  input: unknown,
): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const known =
        issue.code === 'unrecognized_keys' ? acceptedKeysAt(schema, issue.path, input) : undefined;
      return describeIssues(new z.ZodError([issue]), prefix, known ?? []);
    })
    .join('; ');
}

/** Minimal view of zod 4's internal definition, enough to walk objects, arrays, wrappers and unions. */
interface Def {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly innerType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly discriminator?: string;
  readonly in?: z.ZodType;
  readonly values?: readonly unknown[];
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The keys the object schema at `path` accepts (undefined when the path does not lead to one). */
export function acceptedKeysAt(
  schema: z.ZodType,
  path: readonly PropertyKey[],
  input: unknown,
): string[] | undefined {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
      return def.innerType === undefined ? undefined : acceptedKeysAt(def.innerType, path, input);
    case 'pipe':
      return def.in === undefined ? undefined : acceptedKeysAt(def.in, path, input);
    case 'union':
      return unionKeys(def, path, input);
    case 'object': {
      const shape = def.shape ?? {};
      if (path.length === 0) return Object.keys(shape);
      const [head, ...rest] = path;
      const child = shape[String(head)];
      return child === undefined ? undefined : acceptedKeysAt(child, rest, field(input, head));
    }
    case 'array': {
      if (path.length === 0 || def.element === undefined) return undefined;
      const [head, ...rest] = path;
      return acceptedKeysAt(def.element, rest, field(input, head));
    }
    default:
      return undefined;
  }
}

/** A discriminated union: the branch the input's discriminator names, else every branch's keys. */
function unionKeys(def: Def, path: readonly PropertyKey[], input: unknown): string[] | undefined {
  const options = def.options ?? [];
  const tag = def.discriminator === undefined ? undefined : field(input, def.discriminator);
  const chosen = options.filter((o) => {
    if (def.discriminator === undefined || tag === undefined) return true;
    const d = defOf(o);
    const literal = d.shape?.[def.discriminator];
    return literal === undefined || (defOf(literal).values ?? []).includes(tag);
  });
  const keys = new Set<string>();
  let found = false;
  for (const o of chosen.length > 0 ? chosen : options) {
    const k = acceptedKeysAt(o, path, input);
    if (k !== undefined) {
      found = true;
      k.forEach((x) => keys.add(x));
    }
  }
  return found ? [...keys] : undefined;
}

function field(input: unknown, key: PropertyKey | undefined): unknown {
  if (key === undefined) return undefined;
  return input !== null && typeof input === 'object'
    ? (input as Record<PropertyKey, unknown>)[key]
    : undefined;
}
