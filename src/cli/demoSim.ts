import { join } from 'node:path';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { UsageError } from '../domain/errors.js';
import type { Logger } from '../infra/logger.js';
import { ReplayClock } from '../scheduling/replayClock.js';
import { OkxSimulator, type SimAddress, type SimFaults, type SimInstrument } from '../sim/okxSimulator.js';
import { readTradeCsv } from '../streams/tradeCsv.js';
import { packageRoot } from './packageRoot.js';
import { checkSpeedBound } from './speed.js';
import { DEFAULT_GRACE_MS } from '../operators/tradesToCandles.js';

const SAMPLES: Readonly<Record<string, string>> = {
  'BTC-USDT': 'samples/binance_spot_BTCUSDT_trades_20240808T2354_20240809T0005.csv',
  'ETH-USDT': 'samples/binance_spot_ETHUSDT_trades_20240808T2354_20240809T0005.csv',
};
export const DEMO_SYMBOLS = Object.keys(SAMPLES);

export interface DemoMarket {
  readonly sim: OkxSimulator;
  readonly address: SimAddress;
  /** The pipeline's scheduler, running on the simulator's clock. */
  readonly scheduler: SchedulerLike;
  readonly precision: { readonly price: number; readonly volume: number };
  /**
   * Grace before a quiet minute is closed by the clock, in simulated time: trades reach us some wall-clock
   * milliseconds after they happen (the simulator pushes every 10 ms), which is `speed` times longer on
   * the simulated clock.
   */
  readonly graceMs: number;
  /** The simulator's clock (simulated ms): where the replay is now. */
  readonly now: () => number;
}

/** What `start` does not need and the soak (src/ops/soak.ts) does. */
export interface DemoMarketExtras {
  /** Faults the simulator injects (drops, stalls, notices, garbage frames). Default none. */
  readonly faults?: SimFaults;
  /** Newest trades per instrument the simulator keeps for REST history. Default 200 000. */
  readonly maxStoredTrades?: number;
}

/**
 * The embedded OKX simulator playing the bundled recorded trades (looping), on a clock `speed`× faster
 * than the wall clock (trades keep their recorded spacing on that clock), for `start` without an exchange
 * and `collect --sim`. Its data is stored as exchange `okx-sim`, never mixed with real OKX candles.
 */
/** Refuses, before anything is opened, symbols the embedded simulator has no data for. */
export function checkDemoSymbols(symbols: readonly string[]): void {
  for (const symbol of symbols) {
    if (SAMPLES[symbol] === undefined) {
      throw new UsageError(
        `the embedded simulator has recorded trades for ${DEMO_SYMBOLS.join(', ')} only, not ${symbol} ` +
          '(run `rxtrade okx-sim --trades FILE --symbol S` for other data and point OKX_WS_PUBLIC_URL/OKX_REST_URL at it)',
      );
    }
  }
}

const HISTORY_CAP_MS = 3_600_000;

export async function startDemoMarket(
  symbols: readonly string[],
  speed: number,
  /** Where the simulated clock starts (default now): after what an earlier run stored, so runs never overlap. */
  startAtMs?: number,
  /** Where the simulator says the collector falls behind it (rate-limited). */
  logger?: Logger,
  extras: DemoMarketExtras = {},
): Promise<DemoMarket> {
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new UsageError(`--speed must be a number > 0, got "${speed}"`);
  checkSpeedBound(speed);
  const instruments: SimInstrument[] = [];
  let price = 0;
  let volume = 0;
  for (const symbol of symbols) {
    const file = SAMPLES[symbol];
    if (file === undefined) {
      throw new UsageError(
        `the embedded simulator has recorded trades for ${DEMO_SYMBOLS.join(', ')} only, not ${symbol} ` +
          '(run `rxtrade okx-sim --trades FILE --symbol S` for other data and point OKX_WS_PUBLIC_URL/OKX_REST_URL at it)',
      );
    }
    const data = await readTradeCsv(join(packageRoot(), file), { symbol });
    instruments.push({ instId: symbol, trades: data.trades });
    price = Math.max(price, data.priceDecimals);
    volume = Math.max(volume, data.sizeDecimals);
  }
  const wall0 = Date.now();
  const t0 = Math.max(wall0, startAtMs ?? 0);
  const realTime = speed === 1 && t0 === wall0;
  // After an earlier run, the simulated history reaches a minute before what it stored (at most an hour
  // back): the restarted collector finds the trades it missed in REST history, as it would on OKX.
  const historyMs =
    startAtMs === undefined ? 0 : Math.min(HISTORY_CAP_MS, Math.max(0, t0 - startAtMs) + 60_000);
  const now = realTime ? Date.now : (): number => t0 + (Date.now() - wall0) * speed;
  const sim = new OkxSimulator({
    instruments,
    speed: 1,
    now,
    maxStoredTrades: extras.maxStoredTrades ?? 200_000,
    ...(extras.faults !== undefined ? { faults: extras.faults } : {}),
    historyMs,
    // OKX's 30 s idle close is on the simulator's clock: keep it 30 s of wall time for our client.
    idleCloseMs: 30_000 * Math.max(1, speed),
    ...(logger !== undefined
      ? { warn: (line: string) => logger.warn({ component: 'okx-sim', speed }, line) }
      : {}),
  });
  const address = await sim.start();
  const scheduler = realTime ? asyncScheduler : new ReplayClock(t0 + (Date.now() - wall0) * speed, speed);
  return {
    sim,
    address,
    scheduler,
    precision: { price, volume },
    graceMs: Math.max(DEFAULT_GRACE_MS, 250 * speed),
    now,
  };
}
