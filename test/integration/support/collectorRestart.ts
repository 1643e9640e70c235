import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../../../src/app/collector.js';
import { createBus } from '../../../src/bus/createBus.js';
import type { Candle } from '../../../src/domain/candle.js';
import { bucketCloseOf, MINUTE_MS, timeframeMs, type Timeframe } from '../../../src/domain/timeframe.js';
import { ReplayClock } from '../../../src/scheduling/replayClock.js';
import { OkxSimulator, type SimAddress } from '../../../src/sim/okxSimulator.js';
import { CandleStore } from '../../../src/storage/candleStore.js';
import type { Database } from '../../../src/storage/database.js';
import { migrate } from '../../../src/storage/migrate.js';
import { sampleEthTrades } from '../../sim/support.js';
import type { TestDatabase } from '../../storage/support/databases.js';

/**
 * A collector stopped before a 5-minute boundary and started again after it stores every minute and the
 * 5m candles spanning the restart, equal to what an uninterrupted run stores (the simulator's ground
 * truth): through OKX REST history trades when they reach back, through OKX's candles when they do not.
 * While a collector runs, the simulator's clock runs 20× faster than the wall clock (a minute every 3 s).
 * It starts a minute before a 5-minute boundary, and while no collector runs (the downtime) it runs
 * 120× faster up to the restart time and waits there: nothing is connected to notice, and the simulator
 * generates every trade of the downtime all the same. Run per database by collectorRestart.*.test.ts
 * (two files, so two jest workers can run them side by side).
 */

const SPEED = 20;
/**
 * How long after a minute's close the collector closes a quiet minute by its clock: a second of wall time.
 * The default (2 s of clock time, 100 ms of wall time at SPEED) is shorter than the event loop can stall on
 * a loaded machine (PGlite runs in this process), and trades pushed before a close then come in late.
 */
const GRACE_MS = 1_000 * SPEED;
/** The simulator's clock rate while no collector runs. */
const DOWNTIME_SPEED = 120;
const SYMBOL = 'ETH-USDT';
const FIVE = 5 * MINUTE_MS;

/**
 * The simulator's clock: `rate` × the wall clock from where it was last set, never past `until` (where it
 * waits). Rates change only while no collector runs (each collector's ReplayClock runs at SPEED).
 */
class SimClock {
  private baseSim: number;
  private baseWall = Date.now();
  private rate = SPEED;
  private until = Number.POSITIVE_INFINITY;

  constructor(startMs: number) {
    this.baseSim = startMs;
  }

  readonly now = (): number => Math.min(this.until, this.baseSim + (Date.now() - this.baseWall) * this.rate);

  /** Runs at `rate` up to `until` and waits there. */
  run(rate: number, until = Number.POSITIVE_INFINITY): void {
    this.baseSim = this.now();
    this.baseWall = Date.now();
    this.rate = rate;
    this.until = until;
  }
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function describeCollectorRestart(name: string, fresh: () => Promise<TestDatabase>): void {
  describe(`a collector restarted across a 5-minute boundary (${name})`, () => {
    let t: TestDatabase;
    let db: Database;
    let sim: OkxSimulator;
    let address: SimAddress;
    let clock: SimClock;
    let dir: string;
    const simNow = (): number => clock.now();

    async function setUp(historyTradesLimit?: number): Promise<void> {
      t = await fresh();
      db = t.db;
      await migrate(db);
      const trades = await sampleEthTrades();
      // A minute before a 5-minute boundary: the first 5m candle closes a minute (3 s) after the start.
      clock = new SimClock(bucketCloseOf(Date.now() + MINUTE_MS, FIVE) - MINUTE_MS);
      sim = new OkxSimulator({
        instruments: [{ instId: SYMBOL, trades }],
        speed: 1,
        now: simNow,
        ...(historyTradesLimit !== undefined ? { historyTradesLimit } : {}),
      });
      address = await sim.start();
      dir = mkdtempSync(join(tmpdir(), 'rxtrade-restart-'));
    }

    afterEach(async () => {
      await sim.stop();
      await t.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    function collector(): { collector: Collector; seen: Candle[] } {
      const bus = createBus({});
      const c = new Collector({
        symbols: [SYMBOL],
        wsUrl: address.wsPublicUrl,
        restUrl: address.restUrl,
        db,
        bus,
        exchange: 'okx-sim',
        spillDir: join(dir, 'spill'),
        deadLetterDir: join(dir, 'dead'),
        scheduler: new ReplayClock(simNow(), SPEED),
        graceMs: GRACE_MS,
      });
      const seen: Candle[] = [];
      c.candles$.subscribe((x) => seen.push(x));
      return { collector: c, seen };
    }

    const stored = (timeframe: Timeframe): Promise<Candle[]> =>
      new CandleStore(db, 'okx-sim').range(SYMBOL, timeframe, 0, Number.MAX_SAFE_INTEGER);

    /** OHLCV of the ground-truth trades in [close − tf, close): what an uninterrupted run stores. */
    function truth(timeframe: Timeframe, closeTimeMs: number) {
      const from = closeTimeMs - timeframeMs(timeframe);
      const trades = sim
        .groundTruth(SYMBOL)
        .filter((x) => x.ts >= from && x.ts < closeTimeMs)
        .sort((a, b) => a.ts - b.ts || Number(a.tradeId) - Number(b.tradeId));
      const px = trades.map((x) => Number(x.px));
      return {
        tf: timeframe,
        t: closeTimeMs,
        open: px[0],
        high: Math.max(...px),
        low: Math.min(...px),
        close: px[px.length - 1],
        volume: Number(trades.reduce((s, x) => s + Number(x.sz), 0).toFixed(6)),
      };
    }

    const shape = (c: Candle) => ({
      tf: c.timeframe,
      t: c.closeTimeMs,
      open: c.open,
      high: c.high,
      low: c.low,
      close: c.close,
      volume: Number(c.volume.toFixed(6)),
    });

    /**
     * Runs a first collector until it has stored two minutes past a 5m boundary B1 (so what it stores from
     * B1 on is whole), stops it, waits until the simulator is `downAfterMs` past B2 (the close of the 5m
     * bucket the first missed minute is in), starts a second one and runs it until it stores the 5m candle
     * B3 = B2 + 5m. Whatever the machine's load delays, the restart spans B2.
     */
    async function restartAcrossBoundary(downAfterMs: number) {
      const first = collector();
      first.collector.start();
      await waitFor('a first 5m candle', () => first.seen.some((c) => c.timeframe === '5m'));
      const b1 = (first.seen.find((c) => c.timeframe === '5m') as Candle).closeTimeMs;
      await waitFor('two minutes after it', () =>
        first.seen.some((c) => c.timeframe === '1m' && c.closeTimeMs >= b1 + 2 * MINUTE_MS),
      );
      await first.collector.flushed();
      await first.collector.stop();
      const newest = Math.max(...(await stored('1m')).map((c) => c.closeTimeMs));
      const b2 = bucketCloseOf(newest + MINUTE_MS, FIVE);
      const restartAt = b2 + downAfterMs + 1;
      clock.run(DOWNTIME_SPEED, restartAt);
      await waitFor('the simulator past the next 5m boundary', () => simNow() >= restartAt);
      clock.run(SPEED);
      const second = collector();
      second.collector.start();
      const b3 = b2 + FIVE;
      await waitFor('the 5m candle after the restart', () =>
        second.seen.some((c) => c.timeframe === '5m' && c.closeTimeMs >= b3),
      );
      await second.collector.flushed();
      const stats = second.collector.stats();
      await second.collector.stop();
      return { b1, b2, b3, newest, stats, second: second.seen };
    }

    /** Every minute from B1 to B3 is stored, and every 5m candle; all equal the ground truth. */
    async function expectWhole(b1: number, b3: number): Promise<{ ones: Candle[]; fives: Candle[] }> {
      const ones = (await stored('1m')).filter((c) => c.closeTimeMs > b1 && c.closeTimeMs <= b3);
      const every: number[] = [];
      for (let x = b1 + MINUTE_MS; x <= b3; x += MINUTE_MS) every.push(x);
      expect(ones.map((c) => c.closeTimeMs)).toEqual(every);
      const fives = (await stored('5m')).filter((c) => c.closeTimeMs >= b1 && c.closeTimeMs <= b3);
      const everyFive: number[] = [];
      for (let x = b1; x <= b3; x += FIVE) everyFive.push(x);
      expect(fives.map((c) => c.closeTimeMs)).toEqual(everyFive);
      const all = [...ones, ...fives];
      expect(all.map(shape)).toEqual(all.map((c) => truth(c.timeframe, c.closeTimeMs)));
      return { ones, fives };
    }

    it('stores every minute and the 5m candles spanning the restart, as an uninterrupted run would (REST history trades)', async () => {
      await setUp();
      const { b1, b3, stats } = await restartAcrossBoundary(140_000);
      expect(stats.resumed).toEqual({ [SYMBOL]: 'whole' });
      expect(stats.gapCandles).toBe(0);
      await expectWhole(b1, b3);
      const [row] = await db.query<{ n: number | string }>(
        `SELECT count(*) AS n FROM market_data WHERE source <> 'trades'`,
      );
      expect(Number(row?.n)).toBe(0);
    });

    it('takes OKX candles where REST history trades do not reach back, and builds the 5m candle from them', async () => {
      // REST keeps the newest 3,400 trades: this market's busiest 75 s hold fewer (so the oldest reachable
      // trade is in a minute OKX has closed), its quietest 4.5 minutes more (so it is after the first run
      // stopped: the downtime is at least 5 minutes).
      await setUp(3_400);
      const { b1, b3, newest, stats, second } = await restartAcrossBoundary(4 * MINUTE_MS);
      expect(stats.resumed).toEqual({ [SYMBOL]: 'whole' });
      const { ones, fives } = await expectWhole(b1, b3);
      // The minutes after the first run stopped came from OKX's candles (the first of them at least), and so
      // did the 5m candle holding them; all hold what an uninterrupted run stores (checked above).
      const fromOkx = ones.filter((c) => c.source === 'okx_candles').map((c) => c.closeTimeMs);
      expect(fromOkx.length).toBeGreaterThan(0);
      expect(stats.gapCandles).toBeGreaterThanOrEqual(fromOkx.length);
      expect(fromOkx[0]).toBe(newest + MINUTE_MS);
      const spanning = bucketCloseOf(newest + MINUTE_MS, FIVE);
      expect(fives.find((c) => c.closeTimeMs === spanning)?.source).toBe('okx_candles');
      expect(second.find((c) => c.timeframe === '5m' && c.closeTimeMs === spanning)?.source).toBe(
        'okx_candles',
      );
      const [row] = await db.query<{ n: number | string }>(
        `SELECT count(*) AS n FROM market_data WHERE source = 'okx_candles' AND timeframe = '5m'`,
      );
      expect(Number(row?.n)).toBeGreaterThanOrEqual(1);
    });
  });
}
