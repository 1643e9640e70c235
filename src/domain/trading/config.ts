import * as z from 'zod';
import type { ExitPlan } from './types.js';

/**
 * Risk and venue configuration, as written in a bot's or a backtest's config file (snake_case keys, strict:
 * an unknown key is an error). Percentages are percent (`1.5` = 1.5 %); the parsed forms the core uses
 * hold fractions.
 */

const positive = z.number().finite().positive();
const nonNegative = z.number().finite().nonnegative();
const percent = z.number().finite().positive().max(100);
/** Basis points of slippage: 10,000 would be the whole price (a sell filled at zero). */
const slippageBps = nonNegative.lt(10_000);

export const sizingSchema = z.discriminatedUnion('type', [
  /** A fixed quantity in base units. */
  z.strictObject({ type: z.literal('fixed'), quantity: positive }),
  /** A share of equity, fees included: 100 spends all the equity. */
  z.strictObject({ type: z.literal('equity'), percentage: percent }),
  /** Risk `percentage` of equity on the stop-loss distance: qty = equity × p% / (price × stop %). */
  z.strictObject({ type: z.literal('risk'), percentage: percent }),
]);

/** Without `--sizing` or `risk.sizing` (a backtest, a bot): all the equity (fees included) on each entry. */
export const DEFAULT_SIZING = { type: 'equity', percentage: 100 } as const;

export const riskConfigSchema = z
  .strictObject({
    sizing: sizingSchema,
    /** Multiply the quantity by the signal's confidence (0..1). */
    scale_by_confidence: z.boolean().default(false),
    stop_loss_percentage: percent.optional(),
    take_profit: z
      .array(z.strictObject({ percentage: positive, position_percentage: percent }))
      .default([])
      .refine((levels) => levels.reduce((s, l) => s + l.position_percentage, 0) <= 100 + 1e-9, {
        message: 'take_profit position_percentage values add up to more than 100',
      }),
    trailing_stop: z
      .strictObject({ activation_percentage: nonNegative, offset_percentage: percent })
      .optional(),
    max_open_positions: z.number().int().positive().default(1),
    /** Smallest order quantity, base units. */
    min_order_size: nonNegative.default(0),
    /** Smallest order value, quote currency. */
    min_notional: nonNegative.default(0),
    /** Quantity increment; quantities are rounded DOWN to it (0: no rounding). */
    lot_size: nonNegative.default(0),
  })
  .refine((c) => c.sizing.type !== 'risk' || c.stop_loss_percentage !== undefined, {
    message: 'sizing type "risk" needs stop_loss_percentage (the distance the risk is measured over)',
    path: ['stop_loss_percentage'],
  });

export type RiskConfigInput = z.input<typeof riskConfigSchema>;
export type RiskConfig = z.output<typeof riskConfigSchema>;

/** Parses (and freezes) a risk config; throws zod's error naming the field. */
export function parseRiskConfig(input: unknown): RiskConfig {
  return Object.freeze(riskConfigSchema.parse(input));
}

/** The exit plan an entry order carries, in fractions, or undefined when the config has no exits. */
export function exitPlanOf(config: RiskConfig): ExitPlan | undefined {
  const takeProfits = [...config.take_profit]
    .sort((a, b) => a.percentage - b.percentage)
    .map((l) => ({ distance: l.percentage / 100, fraction: l.position_percentage / 100 }));
  const stopLoss = config.stop_loss_percentage === undefined ? undefined : config.stop_loss_percentage / 100;
  const t = config.trailing_stop;
  const trailing =
    t === undefined
      ? undefined
      : { activation: t.activation_percentage / 100, offset: t.offset_percentage / 100 };
  if (stopLoss === undefined && takeProfits.length === 0 && trailing === undefined) return undefined;
  return {
    takeProfits,
    ...(stopLoss === undefined ? {} : { stopLoss }),
    ...(trailing === undefined ? {} : { trailing }),
  };
}

export const slippageSchema = z.discriminatedUnion('type', [
  /** Every taker fill is `bps` worse than the price it triggered on. */
  z.strictObject({ type: z.literal('fixed'), bps: slippageBps }),
  /** Each taker fill is a uniform random 0..`max_bps` worse, from a PRNG seeded with `seed`. */
  z.strictObject({ type: z.literal('random'), max_bps: slippageBps, seed: z.number().int() }),
]);

export const venueModelSchema = z.strictObject({
  /** Fee as a fraction of notional on every fill, unless maker/taker rates are given. */
  fee_rate: nonNegative.max(1).default(0.001),
  /** Limit fills (take-profits included). Default: fee_rate. */
  maker_fee_rate: nonNegative.max(1).optional(),
  /** Market and stop fills (stop-losses included). Default: fee_rate. */
  taker_fee_rate: nonNegative.max(1).optional(),
  slippage: slippageSchema.default({ type: 'fixed', bps: 0 }),
});

export type VenueModelInput = z.input<typeof venueModelSchema>;
export type VenueModel = z.output<typeof venueModelSchema>;

export function parseVenueModel(input: unknown): VenueModel {
  return Object.freeze(venueModelSchema.parse(input));
}

export function makerFeeRate(m: VenueModel): number {
  return m.maker_fee_rate ?? m.fee_rate;
}

export function takerFeeRate(m: VenueModel): number {
  return m.taker_fee_rate ?? m.fee_rate;
}

/** The worst slippage a taker fill can get, in bps: what pre-trade checks assume. */
export function worstSlippageBps(m: VenueModel): number {
  return m.slippage.type === 'fixed' ? m.slippage.bps : m.slippage.max_bps;
}
