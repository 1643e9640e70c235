import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { RxtradeError, UsageError } from '../domain/errors.js';
import { describeIssues } from '../strategies/registry.js';

/**
 * Market caps and exchange listings per base currency, which exchanges do not publish: an optional local
 * YAML or JSON file, `{ BTC: { market_cap: 1.2e12, listings: 120 }, ... }`.
 */
export type MarketData = ReadonlyMap<string, { readonly marketCap: number; readonly listings: number }>;

const fileSchema = z.record(
  z.string(),
  z.strictObject({
    market_cap: z.number().finite().nonnegative(),
    listings: z.number().int().nonnegative().default(0),
  }),
);

export async function loadMarketData(path: string): Promise<MarketData> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new RxtradeError(
      'config_unreadable',
      `${path}: cannot read the market data file (${(err as Error).message})`,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new UsageError(`${path}: not valid YAML or JSON: ${(err as Error).message}`);
  }
  const parsed = fileSchema.safeParse(doc ?? {});
  if (!parsed.success) throw new UsageError(`${path}: ${describeIssues(parsed.error, [])}`);
  return new Map(
    Object.entries(parsed.data).map(([base, e]) => [
      base.toUpperCase(),
      { marketCap: e.market_cap, listings: e.listings },
    ]),
  );
}
