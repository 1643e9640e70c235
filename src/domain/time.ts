/** Epoch ms as ISO-8601 text (UTC) for messages and reports; a value that is no time is shown as it is. */
export function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

/** Epoch ms as ISO-8601 text without zero seconds (`2024-01-02T03:04Z`): for ranges and fold tables. */
export function isoMinute(ms: number): string {
  return iso(ms).replace(':00.000Z', 'Z');
}

/** The units of epoch numbers in data files. */
export type EpochUnit = 's' | 'ms' | 'us' | 'ns';

/** The unit of an epoch number, read off its magnitude (unambiguous for times from 1973 to 5138). */
export function epochUnit(value: number): EpochUnit {
  return value >= 1e17 ? 'ns' : value >= 1e14 ? 'us' : value >= 1e11 ? 'ms' : 's';
}

/** Epoch ms of an epoch number written as `text` in `unit` (decimal seconds exactly: no float error). */
export function epochToMs(text: string, unit: EpochUnit): number {
  if (unit === 's') return secondsToMs(text);
  const v = Number(text);
  return Math.floor(unit === 'ns' ? v / 1e6 : unit === 'us' ? v / 1e3 : v);
}

/** ISO-8601 text as epoch ms, UTC when it names no zone (`2021-05-01 12:00` too); NaN when it is none. */
export function parseIsoUtc(text: string): number {
  const hasZone = /(?:Z|[+-]\d\d:?\d\d)$/i.test(text);
  const dateOnly = /^\d{4}-\d\d-\d\d$/.test(text);
  return Date.parse(hasZone || dateOnly ? text : `${text.replace(' ', 'T')}Z`);
}

/** Exact for decimal seconds: `1723161255.342` × 1000 in floating point is 1723161255341.9998. */
function secondsToMs(text: string): number {
  if (/[eE]/.test(text)) return Math.floor(Number(text) * 1e3);
  const [whole, fraction = ''] = text.split('.');
  return Number(whole) * 1000 + Number(fraction.padEnd(3, '0').slice(0, 3));
}
