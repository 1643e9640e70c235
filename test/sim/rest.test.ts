import { getJson, ManualClock, sleep, startSim, stopAll, trade } from './support.js';

afterEach(stopAll);

const ID0 = 100_000_000;

/** 25 ETH-USDT trades, two per second (pairs share a timestamp); all generated once the clock moved 13 s. */
async function restSim(options: { historyTradesLimit?: number; rateLimits?: boolean } = {}) {
  const clock = new ManualClock();
  const trades = Array.from({ length: 25 }, (_, i) =>
    trade(Math.floor(i / 2) * 1000, 2000 + i, 0.5 + i / 100, i % 3 === 0 ? 'sell' : 'buy'),
  );
  const { sim, address } = await startSim({
    now: clock.now,
    loop: false,
    instruments: [
      { instId: 'ETH-USDT', trades },
      { instId: 'BTC-USDT', trades: [trade(0, 60000.5, 0.00001, 'buy')] },
    ],
    ...options,
  });
  clock.advance(13_000);
  await sleep(30);
  const url = (path: string): string => `${address.restUrl}${path}`;
  const get = (path: string) => getJson(url(path));
  const ids = async (query: string): Promise<number[]> => {
    const r = await get(`/api/v5/market/history-trades?instId=ETH-USDT${query}`);
    expect(r.body.code).toBe('0');
    return (r.body.data as { tradeId: string }[]).map((t) => Number(t.tradeId) - ID0);
  };
  return { sim, clock, get, url, ids, start: clock.ms - 13_000 };
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.abs(to - from) + 1 }, (_, i) => (from > to ? from - i : from + i));

describe('REST market data', () => {
  it('lists spot instruments with tick and lot sizes, filtered by instId', async () => {
    const { get } = await restSim();
    const all = await get('/api/v5/public/instruments?instType=SPOT');
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ code: '0', msg: '' });
    expect(all.body.data).toEqual([
      expect.objectContaining({
        instType: 'SPOT',
        instId: 'ETH-USDT',
        baseCcy: 'ETH',
        quoteCcy: 'USDT',
        tickSz: '1',
        lotSz: '0.01',
        minSz: '0.01',
        state: 'live',
        listTime: expect.stringMatching(/^\d{13}$/),
      }),
      expect.objectContaining({ instId: 'BTC-USDT', tickSz: '0.1', lotSz: '0.00001' }),
    ]);
    const one = await get('/api/v5/public/instruments?instType=SPOT&instId=BTC-USDT');
    expect((one.body.data as { instId: string }[]).map((i) => i.instId)).toEqual(['BTC-USDT']);
    expect((await get('/api/v5/public/instruments?instType=SWAP')).body).toEqual({
      code: '0',
      msg: '',
      data: [],
    });
  });

  it.each([
    ['/api/v5/public/instruments', 400, '50014', 'Parameter instType can not be empty.'],
    ['/api/v5/public/instruments?instType=spot', 400, '51000', 'Parameter instType error'],
    [
      '/api/v5/public/instruments?instType=SPOT&instId=DOGE-USDT',
      200,
      '51001',
      "Instrument ID, Instrument ID code, or Spread ID doesn't exist.",
    ],
    ['/api/v5/market/candles?instId=ETH-USDT&bar=1h', 400, '51000', 'Parameter bar error'],
    ['/api/v5/market/history-candles?instId=ETH-USDT&bar=1d', 400, '51000', 'Parameter bar error'],
    ['/api/v5/market/candles?bar=1m', 400, '50014', 'Parameter instId can not be empty.'],
    ['/api/v5/market/candles?instId=', 400, '50014', 'Parameter instId can not be empty.'],
    ['/api/v5/market/candles?instId=ETH-USDT&after=yesterday', 400, '51000', 'Parameter after error'],
    [
      '/api/v5/market/candles?instId=FOO-USDT',
      200,
      '51001',
      "Instrument ID, Instrument ID code, or Spread ID doesn't exist.",
    ],
    [
      '/api/v5/market/trades?instId=FOO-USDT',
      200,
      '51001',
      "Instrument ID, Instrument ID code, or Spread ID doesn't exist.",
    ],
    ['/api/v5/market/trades?instId=ETH-USDT&limit=0', 400, '51000', 'Parameter limit error'],
    ['/api/v5/market/history-trades?instId=ETH-USDT&type=3', 400, '51000', 'Parameter type error'],
    ['/api/v5/market/history-trades?instId=ETH-USDT&limit=-1', 400, '51000', 'Parameter limit error'],
    ['/api/v5/market/history-trades?instId=ETH-USDT&before=1.5', 400, '51000', 'Parameter before error'],
    ['/api/v5/market/history-trades', 400, '50014', 'Parameter instId can not be empty.'],
  ])('GET %s → HTTP %d, code %s', async (path, status, code, msg) => {
    const { get } = await restSim();
    const r = await get(path);
    expect(r).toEqual({ status, body: { code, msg, data: [] } });
  });

  it('answers unknown paths with 404 and other methods with 405', async () => {
    const { get, url } = await restSim();
    expect(await get('/api/v5/market/books-full?instId=ETH-USDT')).toEqual({
      status: 404,
      body: { code: '404', msg: 'Not Found', data: [] },
    });
    const post = await fetch(url('/api/v5/market/trades?instId=ETH-USDT'), { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(await post.json()).toEqual({ code: '405', msg: 'Method Not Allowed', data: [] });
  });

  it('pages history-trades by trade id: newest first, after → older, before → newer, both exclusive', async () => {
    const { ids, get } = await restSim();
    expect(await ids('')).toEqual(range(24, 0));
    expect(await ids('&after=&before=&limit=')).toEqual(range(24, 0)); // empty = absent
    expect(await ids('&limit=5')).toEqual(range(24, 20));
    expect(await ids(`&after=${ID0 + 20}&limit=5`)).toEqual(range(19, 15));
    expect(await ids(`&before=${ID0 + 20}`)).toEqual(range(24, 21));
    expect(await ids(`&before=${ID0 + 2}&limit=3`)).toEqual(range(24, 22)); // before alone: the newest page
    expect(await ids(`&after=${ID0 + 20}&before=${ID0 + 15}`)).toEqual(range(19, 16));
    expect(await ids(`&after=${ID0}`)).toEqual([]);
    expect(await ids('&limit=1000')).toHaveLength(25); // capped at 100, and there are 25

    // Paging backwards with after = the oldest id held collects everything once.
    const seen: number[] = [];
    let after = '';
    for (;;) {
      const page = await ids(`&limit=7&after=${after}`);
      if (page.length === 0) break;
      seen.push(...page);
      after = String(ID0 + (page[page.length - 1] as number));
    }
    expect(seen).toEqual(range(24, 0));

    const rows = (await get('/api/v5/market/history-trades?instId=ETH-USDT&limit=1')).body.data;
    expect(rows).toEqual([
      {
        instId: 'ETH-USDT',
        side: 'sell',
        sz: '0.74',
        source: '0',
        px: '2024',
        tradeId: String(ID0 + 24),
        ts: expect.stringMatching(/^\d{13}$/),
      },
    ]);
  });

  it('pages history-trades by timestamp with type=2', async () => {
    const { ids, start } = await restSim();
    // Trades 2k and 2k+1 share the time start + k s.
    expect(await ids(`&type=2&after=${start + 5000}`)).toEqual(range(9, 0));
    expect(await ids(`&type=2&before=${start + 10_000}`)).toEqual(range(24, 22));
    expect(await ids(`&type=2&after=${start + 5000}&before=${start + 2000}`)).toEqual(range(9, 6));
    expect(await ids(`&type=2&after=${start + 5000}&limit=3`)).toEqual(range(9, 7));
  });

  it('serves the latest trades on /market/trades, newest first, up to limit', async () => {
    const { get } = await restSim();
    const r = await get('/api/v5/market/trades?instId=ETH-USDT&limit=3');
    expect((r.body.data as { tradeId: string }[]).map((t) => Number(t.tradeId) - ID0)).toEqual([24, 23, 22]);
    const btc = await get('/api/v5/market/trades?instId=BTC-USDT');
    expect(btc.body.data).toEqual([
      expect.objectContaining({
        tradeId: String(2 * ID0),
        px: '60000.5',
        sz: '0.00001',
        side: 'buy',
        source: '0',
      }),
    ]);
  });

  it('reaches only the newest historyTradesLimit trades (a gap REST cannot fill)', async () => {
    const { ids, get, sim } = await restSim({ historyTradesLimit: 10 });
    expect(sim.groundTruth('ETH-USDT')).toHaveLength(25);
    expect(await ids('')).toEqual(range(24, 15));
    expect(await ids(`&after=${ID0 + 17}`)).toEqual([16, 15]);
    expect(await ids(`&after=${ID0 + 15}`)).toEqual([]);
    expect(await ids(`&after=${ID0 + 5}`)).toEqual([]);
    const recent = await get('/api/v5/market/trades?instId=ETH-USDT&limit=500');
    expect(recent.body.data).toHaveLength(10);
  });

  it('rate-limits per endpoint over a sliding 2 s window: HTTP 429 {"msg":"Too Many Requests","code":"50011"}', async () => {
    const { get, clock, sim } = await restSim();
    const path = '/api/v5/market/history-trades?instId=ETH-USDT&limit=1';
    for (let i = 0; i < 20; i++) expect((await get(path)).status).toBe(200);
    expect(await get(path)).toEqual({ status: 429, body: { msg: 'Too Many Requests', code: '50011' } });
    // Other endpoints have their own budget.
    expect((await get('/api/v5/market/candles?instId=ETH-USDT')).status).toBe(200);
    expect(sim.stats().rateLimited).toBe(1);
    clock.advance(1999);
    expect((await get(path)).status).toBe(429);
    clock.advance(1);
    expect((await get(path)).status).toBe(200);
  });

  it('does not rate-limit with rateLimits: false', async () => {
    const { get } = await restSim({ rateLimits: false });
    for (let i = 0; i < 30; i++) {
      expect((await get('/api/v5/market/history-trades?instId=ETH-USDT&limit=1')).status).toBe(200);
    }
  });
});

describe('historyMs', () => {
  it('starts with that much history in REST trades and candles, none of it pushed', async () => {
    const clock = new ManualClock();
    const trades = Array.from({ length: 10 }, (_, i) => trade(i * 20_000, 2000 + i, 1, 'buy'));
    const { sim, address } = await startSim({
      now: clock.now,
      loop: false,
      historyMs: 90_000,
      instruments: [{ instId: 'ETH-USDT', trades }],
    });
    const start = clock.ms;
    // Trades at start − 90 s, −70 s, … −10 s are history already; the one at +10 s comes when its time does.
    const r = await getJson(`${address.restUrl}/api/v5/market/history-trades?instId=ETH-USDT`);
    const ts = (r.body.data as { ts: string }[]).map((t) => Number(t.ts) - start);
    expect(ts).toEqual([-10_000, -30_000, -50_000, -70_000, -90_000]);
    const c = await getJson(
      `${address.restUrl}/api/v5/market/history-candles?instId=ETH-USDT&bar=1m&after=${start}`,
    );
    expect((c.body.data as string[][]).length).toBeGreaterThan(0);
    expect(sim.groundTruth('ETH-USDT').length).toBe(5);
    expect(sim.stats().trades).toBe(5);
  });

  it('refuses a negative or non-finite historyMs', async () => {
    await expect(
      startSim({ instruments: [{ instId: 'ETH-USDT', trades: [trade(0, 1, 1, 'buy')] }], historyMs: -1 }),
    ).rejects.toThrow(/historyMs must be a number ≥ 0, got -1/);
  });
});
