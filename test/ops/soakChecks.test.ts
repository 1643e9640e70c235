import type { Candle } from '../../src/domain/candle.js';
import { CandleStore } from '../../src/storage/candleStore.js';
import { migrate } from '../../src/storage/migrate.js';
import {
  auditMinuteCandles,
  heapGrowth,
  MinuteStreamAudit,
  soakFailures,
  type SoakEvidence,
  type SoakSample,
} from '../../src/ops/soakChecks.js';
import { freshPglite, type TestDatabase } from '../storage/support/databases.js';

const T0 = Date.UTC(2026, 0, 1, 0, 0);
const MIN = 60_000;

function candle(symbol: string, closeTimeMs: number, revision = 0): Candle {
  return {
    symbol,
    timeframe: '1m',
    closeTimeMs,
    open: 1,
    high: 2,
    low: 1,
    close: 2,
    volume: 3,
    tradesCount: 4,
    closed: true,
    revision,
  };
}

function sample(hour: number, heapUsedMb: number, more: Partial<SoakSample> = {}): SoakSample {
  return {
    hour,
    wallSec: hour * 15,
    memory: { heapUsedMb, rssMb: 500, externalMb: 200 },
    handles: 20,
    handleTypes: {},
    loop: { p50Ms: 1, p99Ms: 10, maxMs: 20 },
    rows: { market_data: 100 },
    bots: [{ botKey: 'b1', status: 'active', cash: 10_000, totalValue: 10_000, trades: 0 }],
    apiOk: true,
    feed: { trades: 1, lateTrades: 0, candles: 1, stored: 1, queued: 0, spillPending: 0, reconnects: 0 },
    ...more,
  };
}

function evidence(more: Partial<SoakEvidence> = {}): SoakEvidence {
  return {
    samples: [sample(1, 100), sample(2, 105), sample(3, 108)],
    minutes: [{ symbol: 'BTC-USDT', rows: 180, missing: [], missingCount: 0, duplicated: [] }],
    stream: { 'BTC-USDT': { repeated: 0, skipped: 0, candles: 180 } },
    simulatedMinutes: 180,
    unhandledRejections: [],
    ...more,
  };
}

describe('soakFailures', () => {
  it('passes a run within every rule', () => {
    expect(soakFailures(evidence())).toEqual([]);
  });

  it('fails when the heap after GC grew more than 10 % after the first simulated hour', () => {
    const failures = soakFailures(evidence({ samples: [sample(0.5, 50), sample(1, 100), sample(2, 111)] }));
    expect(failures).toEqual([
      'memory: the heap after GC grew 11.0 % after the first simulated hour (100 MB at hour 1, at least 111 MB from hour 2 on; limit 10 %)',
    ]);
    // Growth during the first hour (caches filling) does not count, nor does a configured limit's headroom.
    expect(soakFailures(evidence({ samples: [sample(0.5, 50), sample(1, 100), sample(2, 109)] }))).toEqual(
      [],
    );
    expect(soakFailures(evidence({ samples: [sample(1, 100), sample(2, 111)], growthLimit: 0.2 }))).toEqual(
      [],
    );
  });

  it('judges growth on the floor of the last quarter of the run: a leak raises it, a backlog only peaks', () => {
    const backlog = [100, 130, 104, 125, 103, 102, 128, 105, 104].map((mb, i) => sample(i + 1, mb));
    expect(heapGrowth(backlog)).toEqual({
      fraction: expect.closeTo(0.04, 6) as number,
      baselineMb: 100,
      floorMb: 104,
      fromHour: 8,
    });
    expect(soakFailures(evidence({ samples: backlog }))).toEqual([]);
    const leak = [100, 103, 106, 109, 112, 115, 118, 121, 124].map((mb, i) => sample(i + 1, mb));
    expect(heapGrowth(leak)?.floorMb).toBe(121);
    expect(soakFailures(evidence({ samples: leak }))).toEqual([
      expect.stringMatching(/^memory: the heap after GC grew 21\.0 %/),
    ]);
    expect(heapGrowth([sample(0.5, 80), sample(1, 100)])).toBeUndefined();
  });

  it('fails on a missing, a duplicated, or a never-stored 1m candle, and on a bots stream that repeats or skips', () => {
    const failures = soakFailures(
      evidence({
        minutes: [
          { symbol: 'BTC-USDT', rows: 179, missing: [T0], missingCount: 1, duplicated: [T0 + MIN] },
          { symbol: 'ETH-USDT', rows: 100, missing: [], missingCount: 0, duplicated: [] },
        ],
        stream: { 'BTC-USDT': { repeated: 2, skipped: 3, candles: 180 } },
      }),
    );
    expect(failures).toEqual([
      'candles: BTC-USDT misses 1 1m candle in the database, first 2026-01-01T00:00:00.000Z',
      'candles: BTC-USDT has 1m candles stored twice at 2026-01-01T00:01:00.000Z',
      'candles: ETH-USDT has 100 1m candles for 180 simulated minutes: the feed fell behind',
      'candles: BTC-USDT: 2 closed 1m candles were given to the bots twice',
      "candles: BTC-USDT: the bots' 1m stream skipped 3 minutes",
    ]);
  });

  it('fails on a bot in error (once per bot), an API that did not answer, and an unhandled rejection', () => {
    const broken = {
      botKey: 'b1',
      status: 'error',
      statusMessage: 'boom',
      cash: 0,
      totalValue: 0,
      trades: 0,
    };
    const failures = soakFailures(
      evidence({
        samples: [
          sample(1, 100, { bots: [broken] }),
          sample(2, 100, { bots: [broken], apiOk: false, apiProblem: 'GET /api/health answered 503' }),
        ],
        unhandledRejections: ['Error: lost'],
      }),
    );
    expect(failures).toEqual([
      'api: at hour 2: GET /api/health answered 503',
      'bots: b1 in error (hour 1: boom)',
      'unhandled rejection: Error: lost',
    ]);
  });
});

describe('MinuteStreamAudit', () => {
  it('counts first emissions of closed 1m candles that repeat or skip a minute, per symbol', () => {
    const audit = new MinuteStreamAudit();
    for (const c of [
      candle('A', T0),
      candle('A', T0 + MIN),
      candle('A', T0 + MIN, 1), // a revision: allowed
      { ...candle('A', T0 + 2 * MIN), timeframe: '5m' as const }, // another timeframe: ignored
      candle('A', T0 + MIN), // repeated
      candle('A', T0 + 4 * MIN), // skips two minutes
      candle('B', T0),
    ])
      audit.note(c);
    expect(audit.result()).toEqual({
      A: { repeated: 1, skipped: 2, candles: 4 },
      B: { repeated: 0, skipped: 0, candles: 1 },
    });
  });
});

describe('auditMinuteCandles', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshPglite();
    await migrate(t.db);
  });
  afterAll(() => t.dispose());

  it('finds the minutes missing between the first and the last stored 1m candle of each symbol', async () => {
    const store = new CandleStore(t.db, 'soak');
    await store.upsert([0, 1, 2, 5, 6].map((i) => candle('BTC-USDT', T0 + i * MIN)));
    await store.upsert([0, 1, 2].map((i) => candle('ETH-USDT', T0 + i * MIN)));
    await new CandleStore(t.db, 'other').upsert([candle('ETH-USDT', T0 + 10 * MIN)]);
    const audit = await auditMinuteCandles(t.db, 'soak', ['BTC-USDT', 'ETH-USDT', 'SOL-USDT'], T0);
    expect(audit).toEqual([
      {
        symbol: 'BTC-USDT',
        rows: 5,
        firstMs: T0,
        lastMs: T0 + 6 * MIN,
        missing: [T0 + 3 * MIN, T0 + 4 * MIN],
        missingCount: 2,
        duplicated: [],
      },
      {
        symbol: 'ETH-USDT',
        rows: 3,
        firstMs: T0,
        lastMs: T0 + 2 * MIN,
        missing: [],
        missingCount: 0,
        duplicated: [],
      },
      { symbol: 'SOL-USDT', rows: 0, missing: [], missingCount: 0, duplicated: [] },
    ]);
    // From a later start only the later candles count.
    const later = await auditMinuteCandles(t.db, 'soak', ['BTC-USDT'], T0 + 5 * MIN);
    expect(later[0]).toMatchObject({ rows: 2, missingCount: 0 });
  });
});
