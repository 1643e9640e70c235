/** The exchange name market data is stored under when none is given: the real OKX (`okx-sim` keeps a simulator's apart). */
export const DEFAULT_EXCHANGE = 'okx';
