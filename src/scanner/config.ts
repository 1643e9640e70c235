import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { describeNestedIssues } from '../bots/configIssues.js';
import { RxtradeError, UsageError } from '../domain/errors.js';
import { DEFAULT_EXCHANGE } from '../domain/exchange.js';

/**
 * The scanner's YAML configuration, in the specification's five sections. Strict: an unknown key is an
 * error naming where it was found. Percentages are percent (`0.5` = 0.5 %).
 */

const positive = z.number().finite().positive();
const nonNegative = z.number().finite().nonnegative();
const percent = z.number().finite().positive().max(100);
const period = z.number().int().min(1).max(1000);
const currency = z.string().regex(/^[A-Z0-9]{1,16}$/, 'a currency code in capitals, such as USDT');

const exchangeSchema = z.strictObject({
  /** Which exchange: `okx` (native client, or its simulator with --sim). */
  name: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/)
    .default(DEFAULT_EXCHANGE),
  /** REST base URL; default: the exchange's own (with --sim: the embedded simulator's). */
  rest_url: z.url().optional(),
});

const filteringSchema = z.strictObject({
  /** Quote currencies a symbol may be priced in. */
  quote_currencies: z.array(currency).min(1).default(['USDT']),
  /** Smallest 24 h volume, in quote currency. */
  min_volume_24h: nonNegative.default(1_000_000),
  /** Widest bid-ask spread, percent of the mid price. */
  max_spread_percentage: percent.default(0.2),
  /** Largest ATR over `volatility_atr_period` 1m candles, percent of the close. */
  max_volatility_percentage: percent.default(2),
  volatility_atr_period: period.default(14),
  /** Fewest 1m candles of history the exchange must serve for the symbol. */
  min_history_candles: z.number().int().min(1).max(300).default(120),
  /** Optional local file (YAML or JSON) with `market_cap` and `listings` per base currency. */
  market_data_file: z.string().min(1).optional(),
  /** With a market data file: smallest market cap (USD); symbols absent from the file fail. */
  min_market_cap: nonNegative.default(0),
  /** With a market data file: fewest exchange listings. */
  min_listings: z.number().int().nonnegative().default(0),
  /** How often the universe is evaluated again, minutes. */
  reevaluate_minutes: z.number().int().min(1).max(1440).default(15),
});

const momentumSchema = z.strictObject({
  rsi: z
    .strictObject({ period: period.default(14), min: percent.default(50), max: percent.default(75) })
    .default({ period: 14, min: 50, max: 75 }),
  macd: z
    .strictObject({ fast: period.default(12), slow: period.default(26), signal: period.default(9) })
    .default({ fast: 12, slow: 26, signal: 9 }),
  /** Rate of change thresholds over 1, 5 and 15 one-minute candles, percent. */
  roc_thresholds: z
    .strictObject({
      '1m': nonNegative.default(0.1),
      '5m': nonNegative.default(0.3),
      '15m': nonNegative.default(0.6),
    })
    .default({ '1m': 0.1, '5m': 0.3, '15m': 0.6 }),
  bollinger: z
    .strictObject({ period: period.default(20), std_dev: positive.default(2) })
    .default({ period: 20, std_dev: 2 }),
  adx: z
    .strictObject({ period: period.default(14), min: nonNegative.default(20) })
    .default({ period: 14, min: 20 }),
  volume: z
    .strictObject({
      sma_period: period.default(10),
      roc_period: period.default(5),
      min_ratio: positive.default(1.5),
    })
    .default({ sma_period: 10, roc_period: 5, min_ratio: 1.5 }),
  atr_period: period.default(14),
  /** Higher timeframes whose close must be above their EMA (trend confirmation). */
  trend: z
    .strictObject({
      timeframes: z.array(z.enum(['5m', '15m', '1h'])).default(['5m', '15m']),
      ema_period: period.default(20),
    })
    .default({ timeframes: ['5m', '15m'], ema_period: 20 }),
  /** Score (0..100) from which a candle is an opportunity. */
  min_score: z.number().min(0).max(100).default(70),
});

const riskSchema = z.strictObject({
  initial_balance: positive.default(10_000),
  /** Largest position, percent of equity. */
  max_position_percentage: percent.default(10),
  max_open_positions: z.number().int().positive().default(5),
  stop_loss_percentage: percent.default(2),
  take_profit: z
    .array(z.strictObject({ percentage: positive, position_percentage: percent }))
    .default([
      { percentage: 1.5, position_percentage: 30 },
      { percentage: 3, position_percentage: 30 },
    ])
    .refine((levels) => levels.reduce((s, l) => s + l.position_percentage, 0) <= 100 + 1e-9, {
      message: 'take_profit position_percentage values add up to more than 100',
    }),
  trailing_stop: z
    .strictObject({ activation_percentage: nonNegative, offset_percentage: percent })
    .default({ activation_percentage: 2, offset_percentage: 1 }),
  /** Fee on every simulated fill, fraction of notional. */
  fee_rate: nonNegative.max(1).default(0.001),
});

const applicationSchema = z.strictObject({
  /** How often the scanner reads the closed 1m candles, seconds. */
  scan_interval_seconds: z.number().min(1).max(3600).default(60),
  /** A market snapshot per universe symbol every this many minutes. */
  snapshot_interval_minutes: z.number().int().min(1).max(1440).default(5),
  /** 1m candles read per symbol when it enters the universe (indicator warm-up). */
  warmup_candles: z.number().int().min(30).max(300).default(120),
  /** The symbol returns are correlated with in snapshots. */
  reference_symbol: z.string().default('BTC/USDT'),
  /** Window of 1m returns for that correlation. */
  correlation_window: z.number().int().min(5).max(1440).default(60),
});

export const scannerConfigSchema = z.strictObject({
  exchange: exchangeSchema.default({ name: 'okx' }),
  filtering: filteringSchema.prefault({}),
  momentum_strategy: momentumSchema.prefault({}),
  risk_management: riskSchema.prefault({}),
  application: applicationSchema.prefault({}),
});

export type ScannerConfig = z.output<typeof scannerConfigSchema>;
export type ScannerConfigInput = z.input<typeof scannerConfigSchema>;

/** Parses a config object; `where` (a file name) starts the message. Throws UsageError naming the key. */
export function parseScannerConfig(input: unknown, where = 'scanner config'): ScannerConfig {
  const parsed = scannerConfigSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new UsageError(`${where}: ${describeNestedIssues(parsed.error, [], scannerConfigSchema, input)}`);
  }
  const m = parsed.data.momentum_strategy;
  if (m.rsi.min >= m.rsi.max) {
    throw new UsageError(
      `${where}: momentum_strategy.rsi.min (${m.rsi.min}) must be below rsi.max (${m.rsi.max})`,
    );
  }
  return parsed.data;
}

/** Parses YAML text (an empty file is all defaults). */
export function parseScannerYaml(text: string, where: string): ScannerConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new UsageError(`${where}: not valid YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseScannerConfig(doc, where);
}

export async function loadScannerConfig(path: string): Promise<{ config: ScannerConfig; text: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new RxtradeError(
      'config_unreadable',
      `${path}: cannot read the scanner config (${(err as Error).message})`,
    );
  }
  return { config: parseScannerYaml(text, path), text };
}
