import { getJson, ManualClock, TestClient, sleep, startSim, stopAll, trade } from './support.js';

afterEach(stopAll);

const T0 = Date.UTC(2024, 7, 8, 23, 54, 0); // simulator start: the first trade
const MIN = 60_000;

/** A minute of trades, then two quiet minutes, then one trade at 3m30s. Speed 1, manual clock. */
function minuteTrades() {
  const burst = Array.from({ length: 20 }, (_, i) => trade(30_000 + i * 100, 100 + (i % 3), 0.1, 'buy'));
  return [
    trade(0, 100, 1, 'buy'),
    trade(10_000, 105, 2, 'buy'),
    trade(20_000, 95, 1, 'sell'),
    ...burst, // price changes every 100 ms: the forming bar changes far more often than once a second
    trade(50_000, 101, 1, 'buy'),
    trade(210_000, 110, 1, 'buy'),
  ];
}

type Row = string[];

function rows(c: TestClient, channel: string): { row: Row; atMs: number }[] {
  return c.frames
    .filter((f) => (f.json as { arg?: { channel?: string } } | undefined)?.arg?.channel === channel)
    .filter((f) => 'data' in (f.json as object))
    .map((f) => ({ row: (f.json as { data: Row[] }).data[0] as Row, atMs: f.atMs }));
}

/** Moves the clock to `untilMs` in steps, letting the simulator's 10 ms tick run after each. */
async function run(clock: ManualClock, untilMs: number, stepMs: number): Promise<void> {
  while (clock.ms < untilMs) {
    clock.advance(Math.min(stepMs, untilMs - clock.ms));
    await sleep(12);
  }
}

/** Quiet minutes push one bar a minute: keep OKX's 30 s idle close out of these tests. */
const NO_IDLE_CLOSE = 3_600_000;

describe('candle channels (/business)', () => {
  it('pushes the forming bar at most once a second (confirm "0"), each closed bar once (confirm "1"), quiet minutes too', async () => {
    const clock = new ManualClock(T0);
    const { address } = await startSim({
      now: clock.now,
      loop: false,
      idleCloseMs: NO_IDLE_CLOSE,
      instruments: [{ instId: 'BTC-USDT', trades: minuteTrades() }],
    });
    const c = await TestClient.connect(address.wsBusinessUrl, clock.now);
    c.subscribe([
      { channel: 'candle1m', instId: 'BTC-USDT' },
      { channel: 'candle5m', instId: 'BTC-USDT' },
    ]);
    await c.until(() => c.json((m) => m.event === 'subscribe').length === 2);
    await run(clock, T0 + 29_000, 5000);
    await run(clock, T0 + 33_000, 100); // the burst: a change every 100 ms
    await run(clock, T0 + 4 * MIN, 5000);
    await c.until(() =>
      rows(c, 'candle1m').some((r) => r.row[0] === String(T0 + 3 * MIN) && r.row[8] === '1'),
    );

    const m1 = rows(c, 'candle1m');
    const closed = m1.filter((r) => r.row[8] === '1').map((r) => r.row);
    expect(closed).toEqual([
      // 100×1 + 105×2 + 95×1 + 101×1 + the burst's 20 × 0.1 at 100/101/102 = 707.9
      [String(T0), '100', '105', '95', '101', '7', '707.9', '707.9', '1'],
      [String(T0 + MIN), '101', '101', '101', '101', '0', '0', '0', '1'],
      [String(T0 + 2 * MIN), '101', '101', '101', '101', '0', '0', '0', '1'],
      [String(T0 + 3 * MIN), '110', '110', '110', '110', '1', '110', '110', '1'],
    ]);
    // Forming pushes: confirm "0", never more often than once a second on the channel. Frames are stamped
    // with the test's clock when they arrive; that clock moves on in 100 ms steps while a frame is in flight
    // (a busy machine delays delivery), so a stamp can be one step late: the gap between two is at least
    // 1000 − 100 ms, and over the 4 s burst (a change every 100 ms) at most 5 forming bars are pushed.
    const forming = m1.filter((r) => r.row[8] === '0');
    expect(forming.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < forming.length; i++) {
      expect(
        (forming[i] as { atMs: number }).atMs - (forming[i - 1] as { atMs: number }).atMs,
      ).toBeGreaterThanOrEqual(900);
    }
    const inBurst = forming.filter((r) => r.atMs >= T0 + 29_000 && r.atMs <= T0 + 33_000 + 100);
    expect(inBurst.length).toBeLessThanOrEqual(5);
    // A confirmed bar comes after the forming ones of the same bar and is never repeated.
    const firstBar = m1.filter((r) => r.row[0] === String(T0));
    expect(firstBar[firstBar.length - 1]?.row[8]).toBe('1');
    expect(firstBar.filter((r) => r.row[8] === '1')).toHaveLength(1);

    // 5m bars open on UTC multiples: 23:50 holds the first minute, closes at 23:55; 23:55's OHLC are
    // those of its trades (two quiet minutes first do not set its open).
    const m5 = rows(c, 'candle5m').map((r) => r.row);
    const closed5 = m5.filter((r) => r[8] === '1');
    expect(closed5).toHaveLength(1);
    expect(closed5[0]?.slice(0, 6)).toEqual([
      String(Date.UTC(2024, 7, 8, 23, 50)),
      '100',
      '105',
      '95',
      '101',
      '7',
    ]);
    expect(m5[m5.length - 1]?.slice(0, 6)).toEqual([
      String(Date.UTC(2024, 7, 8, 23, 55)),
      '110',
      '110',
      '110',
      '110',
      '1',
    ]);
    expect(m5[m5.length - 1]?.[8]).toBe('0');
  });

  it('serves the same bars on REST, newest first, the forming one with confirm "0", with OKX alignment per bar', async () => {
    const clock = new ManualClock(T0);
    const { address } = await startSim({
      now: clock.now,
      loop: false,
      idleCloseMs: NO_IDLE_CLOSE,
      instruments: [{ instId: 'BTC-USDT', trades: minuteTrades() }],
    });
    await run(clock, T0 + 4 * MIN - 1000, 10_000);
    const url = (path: string) => `${address.restUrl}/api/v5/market/${path}`;
    const r1 = await getJson(url('candles?instId=BTC-USDT&bar=1m'));
    expect(r1.status).toBe(200);
    expect(r1.body.code).toBe('0');
    const data = r1.body.data as Row[];
    expect(data.map((r) => [Number(r[0]) - T0, r[4], r[5], r[8]])).toEqual([
      [3 * MIN, '110', '1', '0'],
      [2 * MIN, '101', '0', '1'],
      [MIN, '101', '0', '1'],
      [0, '101', '7', '1'],
    ]);
    const hist = await getJson(url('history-candles?instId=BTC-USDT&bar=1m'));
    expect(hist.body.data).toEqual(data);
    // Paging by ts, both bounds exclusive.
    const page = await getJson(
      url(`history-candles?instId=BTC-USDT&bar=1m&after=${T0 + 3 * MIN}&before=${T0}`),
    );
    expect((page.body.data as Row[]).map((r) => Number(r[0]) - T0)).toEqual([2 * MIN, MIN]);
    const limited = await getJson(url('candles?instId=BTC-USDT&bar=1m&limit=2&after='));
    expect((limited.body.data as Row[]).map((r) => Number(r[0]) - T0)).toEqual([3 * MIN, 2 * MIN]);

    const open = async (bar: string): Promise<string> =>
      new Date(
        Number(((await getJson(url(`candles?instId=BTC-USDT&bar=${bar}`))).body.data as Row[])[0]?.[0]),
      ).toISOString();
    expect(await open('1H')).toBe('2024-08-08T23:00:00.000Z');
    expect(await open('4H')).toBe('2024-08-08T20:00:00.000Z');
    expect(await open('1D')).toBe('2024-08-08T16:00:00.000Z'); // Hong Kong midnight
    expect(await open('1Dutc')).toBe('2024-08-08T00:00:00.000Z');
    expect(await open('1W')).toBe('2024-08-04T16:00:00.000Z'); // Monday 00:00 in Hong Kong
    const day = ((await getJson(url('candles?instId=BTC-USDT&bar=1Dutc'))).body.data as Row[])[0];
    expect(day?.slice(1, 6)).toEqual(['100', '110', '95', '110', '8']);
  });

  it('does not push bars closed before the subscription, and pushes 1D (HK) and 1Dutc channels', async () => {
    const clock = new ManualClock(T0);
    const { address } = await startSim({
      now: clock.now,
      loop: false,
      idleCloseMs: NO_IDLE_CLOSE,
      instruments: [{ instId: 'BTC-USDT', trades: minuteTrades() }],
    });
    await run(clock, T0 + 2.5 * MIN, 30_000);
    const c = await TestClient.connect(address.wsBusinessUrl, clock.now);
    c.subscribe([
      { channel: 'candle1m', instId: 'BTC-USDT' },
      { channel: 'candle1D', instId: 'BTC-USDT' },
      { channel: 'candle1Dutc', instId: 'BTC-USDT' },
    ]);
    await c.until(
      () =>
        rows(c, 'candle1m').length > 0 && rows(c, 'candle1D').length > 0 && rows(c, 'candle1Dutc').length > 0,
    );
    expect(rows(c, 'candle1m').map((r) => [Number(r.row[0]) - T0, r.row[8]])).toEqual([[2 * MIN, '0']]);
    expect(rows(c, 'candle1D')[0]?.row[0]).toBe(String(Date.UTC(2024, 7, 8, 16)));
    expect(rows(c, 'candle1Dutc')[0]?.row[0]).toBe(String(Date.UTC(2024, 7, 8)));
    await run(clock, T0 + 3 * MIN + 500, 500);
    await c.until(() => rows(c, 'candle1m').some((r) => r.row[8] === '1'));
    expect(
      rows(c, 'candle1m')
        .filter((r) => r.row[8] === '1')
        .map((r) => Number(r.row[0]) - T0),
    ).toEqual([2 * MIN]);
  });
});
