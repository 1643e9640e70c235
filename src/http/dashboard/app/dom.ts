/// <reference lib="dom" />

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

/**
 * Creates an element: `h('button', { class: 'x', onclick: fn }, 'Start')`. Attributes whose value is
 * `false` or `undefined` are left out, `on…` functions become listeners, strings are text (never HTML).
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value' && 'value' in el) (el as HTMLInputElement).value = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'number' ? String(child) : child);
  }
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** The element with this id; a missing one is a bug in index.html. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new TypeError(`dashboard: #${id} is missing from the page`);
  return el as T;
}

const money = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function fmtMoney(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : money.format(value);
}

/** Prices keep up to 8 significant digits (BTC at 60,000.1 and a coin at 0.000123 both read right). */
export function fmtPrice(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { maximumSignificantDigits: 8 });
}

export function fmtPct(fraction: number | undefined): string {
  return fraction === undefined || !Number.isFinite(fraction) ? '–' : `${(fraction * 100).toFixed(2)} %`;
}

export function fmtTime(ms: number | undefined): string {
  if (ms === undefined) return '–';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** A signed class for a number: `gain`, `loss` or none. */
export function signClass(value: number | undefined): string {
  if (value === undefined || value === 0 || !Number.isFinite(value)) return '';
  return value > 0 ? 'gain' : 'loss';
}
