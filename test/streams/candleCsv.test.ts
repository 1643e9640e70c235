import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/domain/errors.js';
import { readCandleCsv } from '../../src/streams/candleCsv.js';
import { invalidData } from '../support/marbles.js';

const dir = mkdtempSync(join(tmpdir(), 'rxtrade-candles-'));
let n = 0;
function file(text: string, name = `c${++n}.csv`): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/**
 * Real rows: Binance spot BTC/USDT 1m candles, lines 1 and 6193–6206 of tooyipjee__BTC_USDT-1m.csv (from the
 * tooyipjee freqtrade fork, GPL-3.0; see shared/data), stamped by OPEN time. The data itself skips the
 * 285 minutes from 04:00 to 08:45 UTC on 2021-04-25 (an exchange outage), so the slice has a real gap.
 */
const REAL_SLICE = `open_time_ms,open_time_utc,open,high,low,close,volume
1619322780000,2021-04-25T03:53:00.000Z,49721.34,49750.0,49670.02,49731.84,120.871771
1619322840000,2021-04-25T03:54:00.000Z,49731.83,49749.98,49672.15,49674.78,32.402935
1619322900000,2021-04-25T03:55:00.000Z,49677.29,49700.0,49668.79,49677.36,22.56704
1619322960000,2021-04-25T03:56:00.000Z,49677.36,49719.02,49677.04,49698.97,16.636203
1619323020000,2021-04-25T03:57:00.000Z,49698.96,49702.75,49635.13,49650.0,26.174736
1619323080000,2021-04-25T03:58:00.000Z,49650.0,49696.82,49642.06,49683.05,18.224997
1619323140000,2021-04-25T03:59:00.000Z,49689.03,49694.46,49615.5,49615.54,13.96771
1619323200000,2021-04-25T04:00:00.000Z,49626.76,49705.04,49600.24,49683.94,5.887034
1619340300000,2021-04-25T08:45:00.000Z,49683.95,49878.13,49683.94,49864.18,50.297182
1619340360000,2021-04-25T08:46:00.000Z,49864.18,50125.85,49671.52,50082.18,117.631204
1619340420000,2021-04-25T08:47:00.000Z,50093.89,50098.34,50028.37,50061.71,51.557635
1619340480000,2021-04-25T08:48:00.000Z,50062.78,50173.73,50050.0,50129.25,97.415449
1619340540000,2021-04-25T08:49:00.000Z,50129.25,50216.57,50126.82,50160.88,75.548735
1619340600000,2021-04-25T08:50:00.000Z,50160.88,50210.0,50110.94,50206.08,73.786739
`;

describe('readCandleCsv', () => {
  it('reads a real open-stamped slice right-aligned and reports (never fills) its gap', async () => {
    const f = await readCandleCsv(file(REAL_SLICE), { symbol: 'BTC-USDT' });
    expect(f.label).toBe('open');
    expect(f.candles).toHaveLength(14);
    expect(f.candles[0]).toEqual({
      symbol: 'BTC-USDT',
      timeframe: '1m',
      closeTimeMs: 1619322780000 + 60_000,
      open: 49721.34,
      high: 49750,
      low: 49670.02,
      close: 49731.84,
      volume: 120.871771,
      tradesCount: 0,
      closed: true,
      revision: 0,
    });
    expect(f.gaps).toEqual([
      { afterCloseTimeMs: 1619323260000, beforeCloseTimeMs: 1619340360000, missing: 284 },
    ]);
    expect(f).toMatchObject({ priceDecimals: 2, volumeDecimals: 6 });
  });

  it('reads close-stamped rows by default, ISO times, any header case, and 1h candles', async () => {
    const close = await readCandleCsv(
      file('TS,Open,HIGH,low,close,Volume\n1619322840000,1,2,0.5,1.5,10\n1619322900000,1.5,1.5,1.5,1.5,0\n'),
    );
    expect(close.label).toBe('close');
    expect(close.candles.map((c) => c.closeTimeMs)).toEqual([1619322840000, 1619322900000]);
    expect(close.candles[0]?.symbol).toBe('UNKNOWN');

    const iso = await readCandleCsv(
      file(
        'date,open,high,low,close,volume\n2021-04-25T04:00:00Z,1,1,1,1,1\n2021-04-25 06:00:00,1,1,1,1,1\n',
      ),
      { timeframe: '1h', label: 'open' },
    );
    expect(iso.candles.map((c) => [c.timeframe, new Date(c.closeTimeMs).toISOString()])).toEqual([
      ['1h', '2021-04-25T05:00:00.000Z'],
      ['1h', '2021-04-25T07:00:00.000Z'],
    ]);
    expect(iso.gaps).toEqual([
      { afterCloseTimeMs: 1619326800000, beforeCloseTimeMs: 1619334000000, missing: 1 },
    ]);
  });

  it('takes the symbol from the file name when it names a pair, and reads a header-only file as empty', async () => {
    const f = await readCandleCsv(
      file('close_time_ms,open,high,low,close,volume\n', 'binance_ETHUSDT_1m.csv'),
    );
    expect(f).toMatchObject({ candles: [], gaps: [], label: 'close' });
    const g = await readCandleCsv(
      file('close_time_ms,open,high,low,close,volume\n1619322840000,1,1,1,1,1\n', 'x_ETHUSDT.csv'),
    );
    expect(g.candles[0]?.symbol).toBe('ETH-USDT');
  });

  it.each([
    ['open_time_ms,open,high,low,close\n', /line 1: missing column: need volume/],
    ['1619322780000,1,1,1,1,1\n', /line 1: no header row/],
    [
      'ts,open,high,low,close,volume\n1619322840000,1,2,0.5,3,1\n',
      /line 2: close 3 is outside low 0.5 .. high 2/,
    ],
    ['ts,open,high,low,close,volume\n1619322840000,0.4,2,0.5,1,1\n', /line 2: open 0.4 is outside/],
    ['ts,open,high,low,close,volume\n1619322840000,1,1,2,1,1\n', /line 2: low 2 is above high 1/],
    ['ts,open,high,low,close,volume\n1619322840000,1,1,1,1,-1\n', /line 2: volume "-1" is negative/],
    ['ts,open,high,low,close,volume\n1619322840000,x,1,1,1,1\n', /line 2: open "x" is not a number/],
    ['ts,open,high,low,close,volume\n1619322840000,0,1,0,1,1\n', /line 2: open "0" is not a positive number/],
    [
      'ts,open,high,low,close,volume\n1619322840001,1,1,1,1,1\n',
      /line 2: time "1619322840001" is not aligned to 1m/,
    ],
    [
      'ts,open,high,low,close,volume\n1619322840,1,1,1,1,1\n',
      /line 2: time "1619322840" is not epoch milliseconds/,
    ],
    ['ts,open,high,low,close,volume\nyesterday,1,1,1,1,1\n', /line 2: time "yesterday" is neither/],
    ['ts,open,high,low,close,volume\n1619322840000,1,1,1\n', /line 2: expected 6 fields, found 4/],
    [
      'ts,open,high,low,close,volume\n1619322900000,1,1,1,1,1\n\n1619322840000,1,1,1,1,1\n',
      /line 4: time "1619322840000" is not after the previous row's \(line 2\)/,
    ],
    [
      'ts,open,high,low,close,volume\n1619322900000,1,1,1,1,1\n1619322900000,1,1,1,1,1\n',
      /line 3: .*strictly increasing/,
    ],
  ])('refuses bad input %#, naming the file and line', async (text, message) => {
    const path = file(text);
    await expect(readCandleCsv(path)).rejects.toEqual(invalidData(message));
    await expect(readCandleCsv(path)).rejects.toThrow(path);
  });

  it('refuses an explicit label that contradicts the time column', async () => {
    await expect(readCandleCsv(file(REAL_SLICE), { label: 'close' })).rejects.toEqual(
      invalidData(/line 1: the time column "open_time_ms" holds open times, but .* by their close time/),
    );
  });

  it('checks alignment against the timeframe (a 1m row is not a 5m candle)', async () => {
    await expect(readCandleCsv(file(REAL_SLICE), { timeframe: '5m' })).rejects.toEqual(
      invalidData(/line 2: time "1619322780000" is not aligned to 5m intervals \(as a candle open time\)/),
    );
  });

  it('says what the rows look like when one is misaligned: its gap to the row before, or its own alignment', async () => {
    const minutes = file('ts,open,high,low,close,volume\n1619222400000,1,1,1,1,1\n1619222460000,1,1,1,1,1\n');
    await expect(readCandleCsv(minutes, { timeframe: '1d' })).rejects.toEqual(
      invalidData(
        /line 3: time "1619222460000" is not aligned to 1d intervals \(as a candle close time\); it is 1m after the row on line 2: the rows look like 1m candles, not 1d \(--timeframe 1m\?\)$/,
      ),
    );
    const first = file('ts,open,high,low,close,volume\n1619222700000,1,1,1,1,1\n');
    await expect(readCandleCsv(first, { timeframe: '1h' })).rejects.toEqual(
      invalidData(
        /line 2: .* not aligned to 1h intervals .*; it is aligned to 5m intervals: check the timeframe \(--timeframe 5m\?\)$/,
      ),
    );
  });

  it('reports a missing or empty file clearly', async () => {
    await expect(readCandleCsv(join(dir, 'nope.csv'))).rejects.toEqual(
      expect.objectContaining({
        message: expect.stringMatching(/cannot read candles file .*nope.csv: no such file/),
      }),
    );
    await expect(readCandleCsv(join(dir, 'nope.csv'))).rejects.toBeInstanceOf(UsageError);
    await expect(readCandleCsv(file(''))).rejects.toEqual(invalidData(/the file is empty/));
  });
});
