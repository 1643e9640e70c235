import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../app/collector.js';
import { startHttpInstance, type HttpInstance } from '../app/httpInstance.js';
import { startInstance, type Instance } from '../app/instance.js';
import { createBus } from '../bus/createBus.js';
import { DEMO_SYMBOLS, startDemoMarket, type DemoMarket } from '../cli/demoSim.js';
import { packageRoot } from '../cli/packageRoot.js';
import { UsageError } from '../domain/errors.js';
import { silentLogger, type Logger } from '../infra/logger.js';
import type { SimFaults, SimStats } from '../sim/okxSimulator.js';
import { openDatabase, type Database } from '../storage/database.js';
import { migrate } from '../storage/migrate.js';
import { CountingLogger } from './countingLogger.js';
import { auditMinuteCandles, MinuteStreamAudit, soakFailures, type SoakSample } from './soakChecks.js';
import { takeSample } from './soakSample.js';
import { fullGc, LoopDelayMonitor } from './soakProbe.js';

export interface SoakOptions {
  /** Simulated hours to run. */
  readonly hours: number;
  /** The simulated clock runs this many times faster than the wall clock (at most MAX_SPEED). */
  readonly speed: number;
  /** Postgres to use (an empty database); default PGlite in a temporary folder, removed afterwards. */
  readonly databaseUrl?: string;
  /** Default the package's config/ (its demo bots), copied to a temporary folder. */
  readonly configDir?: string;
  /** Simulated minutes between samples. Default 60. */
  readonly sampleEveryMin?: number;
  /** Default: SOAK_FAULTS scaled to `speed` (soakFaults). */
  readonly faults?: SimFaults;
  /**
   * Wall-clock time a minute waits for its trades before the clock closes it (the grace, times `speed` in
   * simulated time). Default 2000, as live; `rxtrade start` gives the demo 250 ms, which on a busy machine
   * at 240× makes most trades late.
   */
  readonly graceWallMs?: number;
  /** Allowed heap growth after the first simulated hour. Default 0.1. */
  readonly growthLimit?: number;
  /** Where the system's own log lines go. Default nowhere (they are counted either way). */
  readonly logger?: Logger;
  /** Called with each sample as it is taken (progress). */
  readonly onSample?: (sample: SoakSample) => void;
}

export interface SoakReport {
  readonly hours: number;
  readonly speed: number;
  readonly wallSec: number;
  readonly samples: readonly SoakSample[];
  readonly minutes: Awaited<ReturnType<typeof auditMinuteCandles>>;
  readonly stream: ReturnType<MinuteStreamAudit['result']>;
  readonly sim: SimStats;
  readonly collector: { readonly trades: number; readonly candles: number; readonly lateTrades: number };
  /** Warnings and errors the system logged, by kind (how often each recovery path ran). */
  readonly warnings: Readonly<Record<string, number>>;
  readonly unhandledRejections: readonly string[];
  /** Empty when the soak passed. */
  readonly failures: readonly string[];
}

/**
 * The collector's keepalive (wall time) in the soak: short, so that a stalled connection is noticed within
 * ~3 s of wall time rather than 30 s, which at 240× would be two simulated hours without data.
 */
export const SOAK_KEEPALIVE = { pingAfterMs: 1500, pongTimeoutMs: 1500 };

/**
 * The faults switched on, in simulated time: a drop every 50 simulated minutes, a service notice every 70,
 * a stall every 170 (lasting until well after the collector's keepalive gave up on it: SOAK_KEEPALIVE,
 * wall time, times `speed`), and about one push in 500 preceded by a malformed frame or sent twice. Each
 * recovery takes seconds of wall time (a reconnect's backoff, a stall's keepalive), which the speed
 * stretches into simulated minutes whose trades come late from REST: denser faults would keep the feed
 * recovering most of the time at 240×, which no exchange does.
 */
export function soakFaults(speed: number): SimFaults {
  const detectSec = ((SOAK_KEEPALIVE.pingAfterMs + SOAK_KEEPALIVE.pongTimeoutMs) / 1000) * speed;
  return {
    dropEverySec: 50 * 60,
    stallEverySec: 170 * 60,
    stallForSec: Math.max(35, Math.ceil(detectSec * 2)),
    noticeEverySec: 70 * 60,
    noticeGraceSec: 60,
    garbageRate: 0.002,
    duplicateRate: 0.002,
    seed: 13,
  };
}

/** Trades per instrument the simulator keeps for REST history: ~50 simulated minutes of the demo data. */
const SIM_HISTORY_TRADES = 80_000;
const EXCHANGE = 'okx-sim';

/**
 * Runs the whole system as `rxtrade start` composes it (the collector, the demo bots, the API and the
 * dashboard, an in-process bus) on the embedded simulator with its faults on, for `hours` simulated
 * hours, sampling every simulated hour; then stops it, audits the stored 1m candles and judges the run.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  if (!(options.hours > 0) || !Number.isFinite(options.hours))
    throw new UsageError(`--hours must be a number > 0, got ${options.hours}`);
  const sampleEveryMs = (options.sampleEveryMin ?? 60) * 60_000;
  if (!(sampleEveryMs > 0)) throw new UsageError(`--sample-every must be > 0 minutes`);
  const temp = mkdtempSync(join(tmpdir(), 'rxtrade-soak-'));
  const configDir = join(temp, 'config');
  cpSync(options.configDir ?? join(packageRoot(), 'config'), configDir, { recursive: true });
  const logger = new CountingLogger(options.logger ?? silentLogger);
  const unhandled: string[] = [];
  const onRejection = (reason: unknown): void => {
    unhandled.push(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason));
  };
  process.on('unhandledRejection', onRejection);
  const gc = fullGc();
  const loop = new LoopDelayMonitor();
  const db = await openDatabase(
    options.databaseUrl !== undefined ? { url: options.databaseUrl } : { pglitePath: join(temp, 'pglite') },
  );
  const bus = createBus({ logger });
  let demo: DemoMarket | undefined;
  let collector: Collector | undefined;
  let instance: Instance | undefined;
  let http: HttpInstance | undefined;
  try {
    await migrate(db, undefined, logger);
    await checkEmpty(db);
    demo = await startDemoMarket(DEMO_SYMBOLS, options.speed, undefined, logger, {
      faults: options.faults ?? soakFaults(options.speed),
      maxStoredTrades: SIM_HISTORY_TRADES,
    });
    const market = demo;
    collector = new Collector({
      symbols: DEMO_SYMBOLS,
      wsUrl: market.address.wsPublicUrl,
      restUrl: market.address.restUrl,
      db,
      bus,
      exchange: EXCHANGE,
      spillDir: join(temp, 'spill'),
      deadLetterDir: join(temp, 'dead-letter'),
      scheduler: market.scheduler,
      graceMs: Math.max(market.graceMs, (options.graceWallMs ?? 2000) * options.speed),
      feed: SOAK_KEEPALIVE,
      logger,
    });
    const stream = new MinuteStreamAudit();
    collector.candles$.subscribe((c) => stream.note(c));
    instance = await startInstance({ db, bus, exchange: EXCHANGE, configDir, collector, logger });
    http = await startHttpInstance({
      bots: instance.bots,
      db,
      bus,
      collector,
      host: '127.0.0.1',
      port: 0,
      logger,
    });
    const startSimMs = market.now();
    const startWallMs = Date.now();
    collector.start();
    loop.take();
    const endSimMs = startSimMs + options.hours * 3_600_000;
    const samples: SoakSample[] = [];
    let due = startSimMs;
    for (let at = startSimMs + sampleEveryMs; ; at += sampleEveryMs) {
      due = Math.min(at, endSimMs);
      await untilSimTime(market, options.speed, due);
      const sample = await takeSample({
        hour: Number(((due - startSimMs) / 3_600_000).toFixed(2)),
        wallSec: Math.round((Date.now() - startWallMs) / 1000),
        gc,
        loop,
        db,
        bots: instance.bots,
        apiUrl: http.url,
        collector,
      });
      samples.push(sample);
      options.onSample?.(sample);
      if (due >= endSimMs) break;
    }
    const simulatedMinutes = (due - startSimMs) / 60_000;
    const feed = collector;
    await stopAll();
    const minutes = await auditMinuteCandles(db, EXCHANGE, DEMO_SYMBOLS, startSimMs);
    const counts = feed.stats();
    // Rejections of the shutdown itself count too: give them a turn of the event loop to surface.
    await new Promise((resolve) => setImmediate(resolve));
    const failures = soakFailures({
      samples,
      minutes,
      stream: stream.result(),
      simulatedMinutes,
      // The partial first minute, the last ones not closed yet: the grace and 5 s of wall time.
      edgeMinutes: Math.max(3, Math.ceil(((5000 + (options.graceWallMs ?? 2000)) * options.speed) / 60_000)),
      unhandledRejections: unhandled,
      ...(options.growthLimit !== undefined ? { growthLimit: options.growthLimit } : {}),
    });
    return {
      hours: options.hours,
      speed: options.speed,
      wallSec: Math.round((Date.now() - startWallMs) / 1000),
      samples,
      minutes,
      stream: stream.result(),
      sim: market.sim.stats(),
      collector: { trades: counts.trades, candles: counts.candles, lateTrades: counts.lateTrades },
      warnings: Object.fromEntries([...logger.counts].sort((a, b) => b[1] - a[1])),
      unhandledRejections: [...unhandled],
      failures,
    };
  } finally {
    await stopAll();
    loop.stop();
    await bus.close();
    await db.close();
    process.off('unhandledRejection', onRejection);
    rmSync(temp, { recursive: true, force: true });
  }

  /** Stops in `rxtrade start`'s order: the feed, the simulator, the flush, then the API and the bots. */
  async function stopAll(): Promise<void> {
    const stopping = collector?.stop(5000);
    collector = undefined;
    await demo?.sim.stop();
    demo = undefined;
    await stopping;
    await http?.close();
    http = undefined;
    await instance?.close();
    instance = undefined;
  }
}

/** Waits until the simulator's clock reaches `simMs`. */
async function untilSimTime(market: DemoMarket, speed: number, simMs: number): Promise<void> {
  for (;;) {
    const left = simMs - market.now();
    if (left <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(left / speed))));
  }
}

/** The soak judges what it stored: a database holding bots or simulated candles already would blur that. */
async function checkEmpty(db: Database): Promise<void> {
  const [row] = await db.query<{ bots: number; candles: number }>(
    `SELECT (SELECT count(*) FROM bots)::int AS bots,
            (SELECT count(*) FROM market_data WHERE exchange = $1)::int AS candles`,
    [EXCHANGE],
  );
  if (Number(row?.bots ?? 0) > 0 || Number(row?.candles ?? 0) > 0) {
    throw new UsageError(
      `the soak needs an empty database: this one holds ${row?.bots ?? 0} bots and ${row?.candles ?? 0} '${EXCHANGE}' candles ` +
        '(give an empty one with --database-url, or none for PGlite in a temporary folder)',
    );
  }
}
