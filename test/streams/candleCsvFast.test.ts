import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCandleCsv, readCandleCsvColumns } from '../../src/streams/candleCsv.js';
import { CandleCsvParser, type CandleCsvOptions } from '../../src/streams/candleCsvParser.js';
import { readCsvLines } from '../../src/streams/csvFile.js';
import { BTC_MONTH } from '../backtests/support.js';

/**
 * The byte-level reader (readCandleCsvColumns, behind readCandleCsv) against the line reader it replaced
 * (CandleCsvParser fed by readCsvLines): the same candles, gaps, label and decimals on the real month, and the
 * same `FILE line N: …` error on every kind of bad row.
 */
async function lineReader(path: string, options: CandleCsvOptions = {}) {
  const parser = new CandleCsvParser(path, options);
  await readCsvLines(path, 'candles', {
    header: (line) => parser.header(line),
    row: (line, lineNo) => parser.row(line, lineNo),
  });
  return {
    candles: parser.candles,
    gaps: parser.gaps,
    label: parser.label,
    priceDecimals: parser.priceDecimals,
    volumeDecimals: parser.volumeDecimals,
  };
}

async function errorOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
}

const dir = mkdtempSync(join(tmpdir(), 'rxtrade-fastcsv-'));
let n = 0;
function file(text: string): string {
  const path = join(dir, `f${++n}.csv`);
  writeFileSync(path, text);
  return path;
}

const HEADER = 'open_time_ms,open,high,low,close,volume';
const GOOD = [
  '1619322780000,49721.34,49750.0,49670.02,49731.84,120.871771',
  '1619322840000,49731.83,49749.98,49672.15,49674.78,32.402935',
];

describe('readCandleCsvColumns (byte-level) equals the line reader', () => {
  it('on the real BTC/USDT month: every candle, gap, label and decimal count', async () => {
    const options = { symbol: 'BTC-USDT' };
    const fast = await readCandleCsv(BTC_MONTH, options);
    const slow = await lineReader(BTC_MONTH, options);
    expect(fast.candles.length).toBe(42_915);
    expect(fast).toEqual(slow);
    const cols = await readCandleCsvColumns(BTC_MONTH, { ...options, shared: true });
    expect(cols.columns.close.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(cols.columns.close)).toEqual(slow.candles.map((c) => c.close));
  });

  it('on odd but valid rows: CRLF, blank lines, spaces, quotes, ISO times, exponents, long decimals, a BOM', async () => {
    const text =
      '\uFEFFTimestamp,Open,High,Low,Close,Volume,Note\r\n' +
      '\r\n' +
      '2021-04-25T03:54:00Z,49721.34,49750.0,49670.02,49731.84,1.2e2,"a, b"\r\n' +
      '1619322900000, 49731.83 ,49749.98,49672.15,49674.78,32.402935,x\r\n' +
      '   \r\n' +
      '1619322960000,49674.780000000001,49749.98,49672.15,49674.78,0.000000000000001,\r\n' +
      '1619323020000,.5,5.,0.25,0.5,0,y';
    const path = file(text);
    for (const options of [{}, { label: 'open' as const }]) {
      const fast = await readCandleCsv(path, options);
      expect(fast.candles).toHaveLength(4);
      expect(fast).toEqual(await lineReader(path, options));
    }
  });

  it('on a file read in many parts: rows of every shape on both sides of each part boundary', async () => {
    // ~1.3 MB: several of the reader's parts, the odd rows cut at many different places.
    const rows = ['\uFEFFopen_time_ms,open,high,low,close,volume,note'];
    let t = 1_619_322_780_000;
    for (let i = 0; i < 20_000; i++) {
      t += i % 1_000 === 999 ? 180_000 : 60_000; // a gap now and then
      const price = (49_000 + (i % 997) / 100).toFixed(2);
      const odd = i % 37;
      if (odd === 1) rows.push(`${new Date(t).toISOString()},${price},${price},${price},${price},1e-3,iso`);
      else if (odd === 2) rows.push(`${t}, ${price} ,${price},${price},${price},5,"a, ""quoted"" note"`);
      else if (odd === 3) rows.push('', '   ');
      if (odd !== 1 && odd !== 2) rows.push(`${t},${price},${price},${price},${price},${i % 11}.25,n${i}`);
    }
    const text = rows.map((row, k) => `${row}${k % 5 === 4 ? '\r\n' : '\n'}`).join('');
    for (const path of [file(text), file(text.replace(/\r?\n$/, ''))]) {
      const fast = await readCandleCsv(path);
      expect(fast.candles).toHaveLength(20_000);
      expect(fast.gaps).toHaveLength(20);
      expect(fast).toEqual(await lineReader(path));
    }
  });

  it('on a line longer than a part (600 kB), and a last line that ends in a CR', async () => {
    const path = file(
      [`${HEADER},note`, `${GOOD[0]},${'x'.repeat(600_000)}`, `${GOOD[1]},short\r`].join('\n'),
    );
    const fast = await readCandleCsv(path);
    expect(fast.candles).toHaveLength(2);
    expect(fast).toEqual(await lineReader(path));
  });

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
  ])('on a bad row far into a file (%s lines): the same error and line number', async (_name, eol) => {
    const good = Array.from(
      { length: 30_000 },
      (_, i) => `${1_619_322_780_000 + i * 60_000},49721.34,49750.0,49670.02,49731.84,120.871771`,
    );
    const path = file([HEADER, ...good, '', '1619322780000,1,2,0.5,1,1', ''].join(eol));
    const fast = await errorOf(() => readCandleCsv(path));
    expect(fast).toContain(' line 30003: ');
    expect(fast).toBe(await errorOf(() => lineReader(path)));
  });

  it.each([
    ['fewer fields', '1619322900000,1,2,0.5'],
    ['a price that is not a number', '1619322900000,abc,2,0.5,1,1'],
    ['a zero price', '1619322900000,0,2,0.5,1,1'],
    ['a negative volume', '1619322900000,1,2,0.5,1,-1'],
    ['low above high', '1619322900000,1,2,3,1,1'],
    ['open outside the range', '1619322900000,5,2,0.5,1,1'],
    ['close outside the range', '1619322900000,1,2,0.5,0.4,1'],
    ['epoch seconds', '1619322900,1,2,0.5,1,1'],
    ['a time after 2099', '4102444800000,1,2,0.5,1,1'],
    ['a misaligned time', '1619322900001,1,2,0.5,1,1'],
    ['a misaligned time under an interval after the last row', '1619322899999,1,2,0.5,1,1'],
    ['a row out of order', '1619322780000,1,2,0.5,1,1'],
    ['a duplicate row', '1619322840000,1,2,0.5,1,1'],
    ['a bad ISO time', '2021-13-45,1,2,0.5,1,1'],
  ])('on %s: the same error, naming the file and line', async (_what, bad) => {
    const path = file([HEADER, ...GOOD, bad, ''].join('\n'));
    const fast = await errorOf(() => readCandleCsv(path));
    expect(fast).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} line 4: `));
    expect(fast).toBe(await errorOf(() => lineReader(path)));
  });

  it('on an empty file and a missing one: the same errors', async () => {
    const empty = file('\n\n');
    expect(await errorOf(() => readCandleCsv(empty))).toBe(await errorOf(() => lineReader(empty)));
    const missing = join(dir, 'missing.csv');
    expect(await errorOf(() => readCandleCsv(missing))).toBe(await errorOf(() => lineReader(missing)));
  });
});
