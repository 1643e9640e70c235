/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { h } from './dom.js';
import type { JsonSchema } from './types.js';

/**
 * A form for a strategy's parameters from their JSON Schema (as `z.toJSONSchema` writes it): a number
 * input per number (bounds and step from the schema), a select per enum, a checkbox per boolean, a text
 * input otherwise. Defaults are shown as values; an emptied field is left out so the server's default applies.
 */
export function schemaFields(schema: JsonSchema): HTMLElement[] {
  return Object.entries(schema.properties ?? {}).map(([name, prop]) =>
    field(name, prop, schema.required ?? []),
  );
}

function field(name: string, prop: JsonSchema, required: readonly string[]): HTMLElement {
  const id = `param-${name}`;
  const type = Array.isArray(prop.type) ? prop.type.find((t) => t !== 'null') : prop.type;
  let input: HTMLElement;
  if (prop.enum !== undefined) {
    input = h(
      'select',
      { id, name, 'data-kind': 'enum' },
      ...prop.enum.map((v) => h('option', { value: String(v), selected: v === prop.default }, String(v))),
    );
  } else if (type === 'integer' || type === 'number') {
    const min = prop.minimum ?? prop.exclusiveMinimum;
    const max = prop.maximum ?? prop.exclusiveMaximum;
    input = h('input', {
      id,
      name,
      type: 'number',
      'data-kind': type,
      step: type === 'integer' ? 1 : 'any',
      min: min === undefined || min < -1e15 ? undefined : min,
      max: max === undefined || max > 1e15 ? undefined : max,
      value: typeof prop.default === 'number' ? prop.default : undefined,
      required: required.includes(name) && prop.default === undefined,
    });
  } else if (type === 'boolean') {
    input = h('input', {
      id,
      name,
      type: 'checkbox',
      'data-kind': 'boolean',
      checked: prop.default === true,
    });
  } else {
    input = h('input', {
      id,
      name,
      type: 'text',
      'data-kind': 'string',
      value: typeof prop.default === 'string' ? prop.default : undefined,
    });
  }
  return h(
    'label',
    { class: 'param', title: prop.description },
    h('span', {}, name),
    input,
    h('small', { class: 'param-error', 'data-error-for': name, hidden: true }),
  );
}

/** The values of the fields made by `schemaFields` (numbers as numbers; empty fields left out). */
export function schemaValues(container: HTMLElement): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const el of container.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-kind]')) {
    const kind = el.dataset['kind'];
    if (kind === 'boolean') values[el.name] = (el as HTMLInputElement).checked;
    else if (el.value === '') continue;
    else if (kind === 'integer' || kind === 'number') values[el.name] = Number(el.value);
    else values[el.name] = el.value;
  }
  return values;
}
