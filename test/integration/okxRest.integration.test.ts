import { fileURLToPath } from 'node:url';
import { RecordingLogger } from '../../src/infra/logger.js';
import { OkxSimulator } from '../../src/sim/okxSimulator.js';
import { OkxRestClient, OkxRestError } from '../../src/streams/okx/rest.js';
import { readTradeCsv } from '../../src/streams/tradeCsv.js';

const samples = fileURLToPath(new URL('../../samples/', import.meta.url));
let sim: OkxSimulator;
let restUrl: string;

beforeAll(async () => {
  const { trades } = await readTradeCsv(
    `${samples}binance_spot_BTCUSDT_trades_20240808T2354_20240809T0005.csv`,
    {
      symbol: 'BTC-USDT',
    },
  );
  sim = new OkxSimulator({ instruments: [{ instId: 'BTC-USDT', trades }], speed: 200 });
  ({ restUrl } = await sim.start());
  await new Promise((r) => setTimeout(r, 1_000)); // let some history accumulate
});
afterAll(() => sim.stop());

describe('OkxRestClient against the OKX simulator', () => {
  it('backs off on 429 / 50011 when another client shares the limit, says so, and still gets every page', async () => {
    const log = new RecordingLogger();
    const a = new OkxRestClient({ baseUrl: restUrl, logger: log, backoffBaseMs: 200 });
    const b = new OkxRestClient({ baseUrl: restUrl, logger: log, backoffBaseMs: 200 });
    // Each client keeps itself inside 20 requests / 2 s, but together they ask for 36 at once.
    const pages = await Promise.all([
      ...Array.from({ length: 18 }, () => a.historyTrades('BTC-USDT', { limit: 5 })),
      ...Array.from({ length: 18 }, () => b.historyTrades('BTC-USDT', { limit: 5 })),
    ]);
    expect(pages.every((p) => p.length === 5)).toBe(true);
    expect(a.rateLimitedCount + b.rateLimitedCount).toBeGreaterThan(0);
    expect(sim.stats().rateLimited).toBeGreaterThan(0);
    expect(log.records).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'OKX rate limit hit: backing off',
        code: '50011',
        status: 429,
      }),
    );
  }, 30_000);

  it('pages history-trades back to a trade id, oldest first, and says when history is complete', async () => {
    const rest = new OkxRestClient({ baseUrl: restUrl });
    const newest = await rest.historyTrades('BTC-USDT', { limit: 1 });
    const newestId = Number(newest[0]?.tradeId);
    const since = await rest.tradesSince('BTC-USDT', newestId - 250);
    expect(since.complete).toBe(true);
    const ids = since.trades.map((t) => Number(t.tradeId));
    expect(ids[0]).toBe(newestId - 249);
    ids.forEach((id, i) => i > 0 && expect(id).toBe((ids[i - 1] as number) + 1));
    expect(ids.length).toBeGreaterThanOrEqual(250);
  });

  it('pages history-trades back from a trade id to a time, oldest first, and says whether it got there', async () => {
    const rest = new OkxRestClient({ baseUrl: restUrl });
    const truth = sim.groundTruth('BTC-USDT');
    const head = truth[truth.length - 1] as (typeof truth)[number];
    const fromMs = head.ts - 2_000;
    const got = await rest.tradesFromTime('BTC-USDT', fromMs, Number(head.tradeId));
    expect(got.complete).toBe(true);
    const want = truth.filter((t) => t.ts >= fromMs && Number(t.tradeId) < Number(head.tradeId));
    expect(got.trades.map((t) => t.tradeId)).toEqual(want.map((t) => t.tradeId));
    // A page budget that ends before `fromMs`: incomplete, with the newest trades before the head.
    const some = await rest.tradesFromTime('BTC-USDT', (truth[0]?.ts as number) - 1, Number(head.tradeId), 3);
    expect(some.complete).toBe(false);
    const before = truth.filter((t) => Number(t.tradeId) < Number(head.tradeId));
    expect(some.trades.map((t) => t.tradeId)).toEqual(before.slice(-300).map((t) => t.tradeId));
  }, 30_000);

  it('turns an error envelope (HTTP 200, code 51001) into a clear error', async () => {
    const rest = new OkxRestClient({ baseUrl: restUrl });
    const err = await rest.historyTrades('NOPE-USDT').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OkxRestError);
    expect(err).toMatchObject({ okxCode: '51001', httpStatus: 200 });
    expect(String((err as Error).message)).toMatch(
      /^OKX \/api\/v5\/market\/history-trades: .*\(code 51001, HTTP 200\)$/,
    );
  });

  it('lists instruments', async () => {
    const rest = new OkxRestClient({ baseUrl: restUrl });
    expect((await rest.instruments('SPOT')).map((i) => i.instId)).toContain('BTC-USDT');
  });
});
