import { getJson, ManualClock, TestClient, sleep, startSim, stopAll, trade } from './support.js';

afterEach(stopAll);

type Level = [string, string, string, string];

describe('tickers and books5 (/public), derived from the last trade', () => {
  it('pushes a ticker and a 5-level book on subscribe and again only when the last trade changes', async () => {
    const clock = new ManualClock();
    const { address } = await startSim({
      now: clock.now,
      loop: false,
      idleCloseMs: 3_600_000,
      instruments: [
        {
          instId: 'BTC-USDT',
          trades: [
            trade(0, 60000.5, 0.5, 'buy'),
            trade(5000, 60010.1, 0.25, 'sell'),
            trade(5050, 59990, 1, 'sell'),
          ],
        },
      ],
    });
    const c = await TestClient.connect(address.wsPublicUrl, clock.now);
    c.subscribe([
      { channel: 'tickers', instId: 'BTC-USDT' },
      { channel: 'books5', instId: 'BTC-USDT' },
    ]);
    await c.until(() => c.pushes('tickers').length === 1 && c.pushes('books5').length === 1);
    const tick = (c.pushes('tickers')[0]?.data as Record<string, string>[])[0];
    expect(tick).toEqual({
      instType: 'SPOT',
      instId: 'BTC-USDT',
      last: '60000.5',
      lastSz: '0.5',
      askPx: '60000.6',
      askSz: expect.stringMatching(/^\d+(\.\d+)?$/),
      bidPx: '60000.4',
      bidSz: expect.stringMatching(/^\d+(\.\d+)?$/),
      open24h: '60000.5',
      high24h: '60000.5',
      low24h: '60000.5',
      volCcy24h: '30000.25',
      vol24h: '0.5',
      sodUtc0: '60000.5',
      sodUtc8: '60000.5',
      ts: String(clock.ms),
    });
    const book = (
      c.pushes('books5')[0]?.data as { asks: Level[]; bids: Level[]; ts: string; seqId: number }[]
    )[0];
    expect(book?.asks.map((l) => l[0])).toEqual(['60000.6', '60000.7', '60000.8', '60000.9', '60001']);
    expect(book?.bids.map((l) => l[0])).toEqual(['60000.4', '60000.3', '60000.2', '60000.1', '60000']);
    expect(book?.asks.every((l) => l[2] === '0' && /^\d+$/.test(l[3]) && Number(l[1]) > 0)).toBe(true);
    expect(book?.ts).toMatch(/^\d{13}$/);
    expect(Number.isInteger(book?.seqId)).toBe(true);

    // Nothing changes: nothing more is pushed.
    for (let i = 0; i < 10; i++) {
      clock.advance(300);
      await sleep(12);
    }
    expect(c.pushes('tickers')).toHaveLength(1);
    expect(c.pushes('books5')).toHaveLength(1);

    // Two trades 50 ms apart: at most one push per 100 ms, the second showing the latest trade.
    clock.advance(2000);
    await c.until(() => c.pushes('tickers').length === 2 && c.pushes('books5').length === 2);
    expect((c.pushes('tickers')[1]?.data as Record<string, string>[])[0]).toMatchObject({ last: '60010.1' });
    clock.advance(50);
    await sleep(40);
    expect(c.pushes('tickers')).toHaveLength(2);
    clock.advance(50);
    await c.until(() => c.pushes('tickers').length === 3 && c.pushes('books5').length === 3);
    const last = (c.pushes('tickers')[2]?.data as Record<string, string>[])[0];
    expect(last).toMatchObject({
      last: '59990',
      lastSz: '1',
      high24h: '60010.1',
      low24h: '59990',
      vol24h: '1.75',
    });
    const book2 = (c.pushes('books5')[2]?.data as { asks: Level[]; seqId: number }[])[0];
    expect(book2?.asks[0]?.[0]).toBe('59990.1');
    expect(book2?.seqId).toBeGreaterThan(book?.seqId as number);

    const rest = await getJson(`${address.restUrl}/api/v5/market/ticker?instId=BTC-USDT`);
    expect((rest.body.data as unknown[])[0]).toEqual(last);
  });
});
