import { InvalidDataError, RxtradeError } from '../domain/errors.js';

/**
 * Encodes one row for `COPY ... (FORMAT csv)`. NULL is an empty unquoted field; every other value is
 * quoted, so an empty string stays '' (not NULL), commas/quotes/newlines survive, and a line can never
 * read as the `\.` end-of-data marker.
 */
export function csvRow(values: readonly unknown[]): string {
  return values.map(csvField).join(',') + '\n';
}

export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  return `"${csvText(value).replaceAll('"', '""')}"`;
}

function csvText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new RxtradeError('invalid_data', `cannot COPY the number ${value}`);
      return String(value);
    case 'bigint':
    case 'boolean':
      return String(value);
    case 'object':
      // A Date is a point in time; anything else object-like is stored as JSON (json/jsonb columns).
      return value instanceof Date ? value.toISOString() : JSON.stringify(value);
    default:
      throw new RxtradeError('invalid_data', `cannot COPY a ${typeof value}`);
  }
}

/**
 * A time in epoch ms as ISO-8601 text for a timestamptz column. A time no JS date can hold (beyond
 * ±8.64e15 ms, or not a number) is an InvalidDataError naming it, so the batch holding it is split and the
 * row dead-lettered like any row the database refuses, instead of failing with a RangeError that looks
 * like an outage.
 */
export function isoTimestamp(ms: number): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) {
    throw new InvalidDataError(`time ${ms} ms is not a date a timestamp can hold`);
  }
  return date.toISOString();
}

/** Quotes an identifier (table or column) so COPY statements cannot be broken by odd names. */
export function quoteIdent(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');
}

/** The COPY statement both adapters run, differing only in the source (`STDIN` or `'/dev/blob'`). */
export function copyStatement(table: string, columns: readonly string[], source: string): string {
  if (columns.length === 0) throw new RxtradeError('invalid_argument', `copyRows(${table}): no columns`);
  return `COPY ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) FROM ${source} WITH (FORMAT csv)`;
}
