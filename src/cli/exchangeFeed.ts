import { CcxtAdapter, loadCcxt } from '../exchanges/ccxtAdapter.js';
import type { ExchangeAdapter } from '../exchanges/exchangeAdapter.js';
import type { DemoMarket } from './demoSim.js';

/** Exchanges whose market data comes through an ExchangeAdapter (ccxt) rather than the native OKX client. */
export const ADAPTER_EXCHANGES: readonly string[] = ['kraken'];

/** `--exchange` names a source read through ccxt (`kraken`), not just the name OKX data is stored under. */
export function isAdapterExchange(exchange: string | undefined): exchange is string {
  return exchange !== undefined && ADAPTER_EXCHANGES.includes(exchange);
}

/**
 * Loads what the feed of `exchange` needs (ccxt) ahead of time: called before an accelerated simulator's
 * clock starts, since loading ccxt keeps the process busy for seconds (minutes of simulated time, which
 * would reach the collector as one burst of late trades).
 */
export async function prepareExchangeFeed(): Promise<void> {
  await loadCcxt();
}

export interface ExchangeFeed {
  /** What the collector reads the exchange through. */
  readonly adapter: ExchangeAdapter;
  /** Where the trades come from, for the start line. */
  readonly description: string;
  close(): Promise<void>;
}

/**
 * The trades of `exchange` through ccxt.pro: from the real exchange, or with `demo`, from the embedded
 * simulator speaking that exchange's dialect (Kraken's, on a second port) through the same ccxt code.
 */
export async function openExchangeFeed(
  exchange: string,
  demo: DemoMarket | undefined,
): Promise<ExchangeFeed> {
  if (demo === undefined) {
    const adapter = await CcxtAdapter.create({ exchange });
    return {
      adapter,
      description: `${exchange} through ccxt.pro`,
      close: () => adapter.close(),
    };
  }
  const { KrakenSimulator } = await import('../sim/krakenSimulator.js');
  const dialect = new KrakenSimulator(demo.sim, { now: demo.now });
  const address = await dialect.start();
  try {
    const adapter = await CcxtAdapter.create({
      exchange,
      urls: { api: { public: address.restUrl, ws: { publicV2: address.wsV2Url } } },
      now: demo.now,
    });
    return {
      adapter,
      description: `the embedded simulator's ${exchange} dialect (${address.restUrl}) through ccxt.pro`,
      close: async () => {
        await adapter.close();
        await dialect.stop();
      },
    };
  } catch (err) {
    await dialect.stop();
    throw err;
  }
}
