import { migrate } from '../../src/storage/migrate.js';
import { RecordingLogger, type LogRecord } from '../../src/infra/logger.js';
import { parseScannerConfig, type ScannerConfig, type ScannerConfigInput } from '../../src/scanner/config.js';
import { CcxtAdapter } from '../../src/exchanges/ccxtAdapter.js';
import { CcxtScanExchange } from '../../src/scanner/ccxtExchange.js';
import type { ScanExchange } from '../../src/scanner/exchange.js';
import { OkxScanExchange } from '../../src/scanner/okxExchange.js';
import { KrakenSimulator } from '../../src/sim/krakenSimulator.js';
import { Scanner, type ScannerEvents } from '../../src/scanner/scanner.js';
import { ScannerStore } from '../../src/scanner/store.js';
import type { ScanSymbolSpec } from '../../src/sim/scanMarket.js';
import { scanInstruments } from '../../src/sim/scanMarket.js';
import type { Database } from '../../src/storage/database.js';
import { ManualClock, startSim } from '../sim/support.js';

export const MINUTE = 60_000;
/** An aligned start (the 15m and 5m buckets line up with the candles). */
export const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);

export interface ScanRig {
  readonly clock: ManualClock;
  /** What the scanner reads: the OKX dialect natively, or the Kraken dialect through ccxt. */
  readonly exchange: ScanExchange;
  /** The simulator's own candles (its OKX dialect), whichever dialect the scanner reads. */
  readonly truth: OkxScanExchange;
  readonly scanner: Scanner;
  readonly store: ScannerStore;
  readonly logs: LogRecord[];
  readonly config: ScannerConfig;
  /** Moves the clock one minute and waits until the simulator has served that minute's candle. */
  nextMinute(): Promise<void>;
  /** Stops what the rig started beside the simulator (the Kraken dialect, ccxt); the simulator stops in stopAll. */
  close(): Promise<void>;
}

/**
 * A simulator over `specs` (ManualClock, no rate limits) with `historyMinutes` of history already
 * traded and the rest to come minute by minute, and a Scanner on it writing to `db`.
 */
export async function scanRig(
  db: Database,
  specs: readonly ScanSymbolSpec[],
  options: {
    historyMinutes: number;
    liveMinutes: number;
    config?: ScannerConfigInput;
    events?: ScannerEvents;
    /** `kraken`: the scanner reads the simulator's Kraken dialect through ccxt.pro (unmodified). Default okx. */
    dialect?: 'okx' | 'kraken';
  },
): Promise<ScanRig> {
  await migrate(db);
  const clock = new ManualClock(T0);
  const total = options.historyMinutes + options.liveMinutes;
  const { sim, address } = await startSim({
    instruments: scanInstruments(specs, total, T0 - options.historyMinutes * MINUTE),
    now: clock.now,
    historyMs: options.historyMinutes * MINUTE,
    loop: false,
    rateLimits: false,
  });
  const truth = new OkxScanExchange('okx-sim', address.restUrl);
  let exchange: ScanExchange = truth;
  let close = async (): Promise<void> => undefined;
  if (options.dialect === 'kraken') {
    const kraken = new KrakenSimulator(sim, { now: clock.now });
    const k = await kraken.start();
    const adapter = await CcxtAdapter.create({
      exchange: 'kraken',
      urls: { api: { public: k.restUrl, ws: { publicV2: k.wsV2Url } } },
      now: clock.now,
      rateLimitMs: 1,
    });
    const ccxtExchange = new CcxtScanExchange({ name: 'kraken-sim', adapter, now: clock.now, settleMs: 300 });
    exchange = ccxtExchange;
    close = async () => {
      ccxtExchange.close();
      await adapter.close();
      await kraken.stop();
    };
  }
  const config = parseScannerConfig(options.config ?? {});
  const store = new ScannerStore(db, `run-${Math.random().toString(36).slice(2)}`, exchange.name);
  await store.startRun();
  await store.recordConfig(1, 'test', config);
  const logs: LogRecord[] = [];
  const logger = new RecordingLogger(logs);
  const scanner = new Scanner({
    exchange,
    store,
    config,
    logger,
    ...(options.events ? { events: options.events } : {}),
  });
  const probe = specs[0]?.instId.replace('-', '/') ?? '';
  return {
    clock,
    exchange,
    truth,
    close,
    scanner,
    store,
    logs,
    config,
    async nextMinute() {
      // On Kraken the clock stops 20 s into the next minute: the trades then traded show the stream has
      // the whole minute before (a quiet symbol's minute comes from REST instead).
      const minute = (Math.floor(clock.ms / MINUTE) + 1) * MINUTE;
      clock.ms = minute + (options.dialect === 'kraken' ? 20_000 : 0);
      const deadline = Date.now() + 30_000;
      for (;;) {
        const last = (await truth.candles(probe, 1)).at(-1);
        if (last !== undefined && last.closeTimeMs >= minute) return;
        if (Date.now() > deadline)
          throw new Error(`the simulator never served the candle closing at ${clock.ms}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}
