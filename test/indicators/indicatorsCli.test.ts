import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INDICATOR_OUTPUT_COLUMNS } from '../../src/cli/commands/indicators.js';
import { runCli } from '../support/cli.js';
import { BTC_SLICE, column, loadCandles, mismatches, readTable } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'rxtrade-indicators-'));
let n = 0;
function file(text: string): string {
  const path = join(dir, `c${++n}.csv`);
  writeFileSync(path, text);
  return path;
}

const HEADER = INDICATOR_OUTPUT_COLUMNS.join(',');

function parseCsv(text: string): { header: string; rows: string[][] } {
  const [header, ...lines] = text.trimEnd().split('\n');
  return { header: header as string, rows: lines.map((l) => l.split(',')) };
}

describe('rxtrade indicators', () => {
  it('names the first five gaps and counts the rest (daily data has one every weekend)', async () => {
    // Eight days, one day missing after each of the first seven: seven gaps of one candle.
    const day = 86_400_000;
    const rows = Array.from(
      { length: 8 },
      (_, i) => `${Date.UTC(2024, 0, 1) + 2 * i * day},10,11,9,10.5,100`,
    );
    const path = file(['ts,open,high,low,close,volume', ...rows, ''].join('\n'));
    const r = await runCli(['indicators', '--data', path, '--label', 'open', '--timeframe', '1d']);
    expect(r.code).toBe(0);
    const notes = r.stderr.trimEnd().split('\n');
    expect(notes).toHaveLength(7);
    expect(notes[6]).toMatch(/8 1d candles .*, 7 gaps$/);
    expect(notes.slice(0, 5).every((l) => l.includes('1 missing 1d candle closing'))).toBe(true);
    expect(notes[5]).toBe(`rxtrade indicators: … and 2 more gaps in ${path} (2 missing candles, not filled)`);
    expect(parseCsv(r.stdout).rows).toHaveLength(8);
  });

  it('prints one row per candle with every column, equal to TA-Lib 0.6 (≤ 1e-9 relative), empty while warming up', async () => {
    const r = await runCli(['indicators', '--data', BTC_SLICE]);
    expect(r.code).toBe(0);
    const { header, rows } = parseCsv(r.stdout);
    expect(header).toBe(
      'close_time_ms,open,high,low,close,volume,sma_20,ema_20,rsi_14,macd_12_26_9,macd_signal_12_26_9,macd_hist_12_26_9,' +
        'bb_upper_20_2,bb_middle_20_2,bb_lower_20_2,atr_14,adx_14,plus_di_14,minus_di_14,obv,roc_10,vwap',
    );
    expect(rows).toHaveLength(2000);
    const candles = loadCandles(BTC_SLICE);
    // the candle columns echo the input (stamped by close time: the file is stamped by open time)
    expect(rows[0]?.slice(0, 6)).toEqual([
      '1621360860000',
      '43324.59',
      '43361.88',
      '43191.18',
      '43231.42',
      '218.319504',
    ]);
    expect(rows.map((row) => Number(row[0]))).toEqual(candles.map((c) => c.closeTimeMs));
    // warm-up: sma_20 empty on the first 19 rows, macd on the first 33, adx on the first 27; obv from row 1
    const at = (name: string) => INDICATOR_OUTPUT_COLUMNS.indexOf(name as never);
    const cells = (name: string) => rows.map((row) => row[at(name)] as string);
    expect(cells('sma_20').findIndex((v) => v !== '')).toBe(19);
    expect(cells('macd_12_26_9').findIndex((v) => v !== '')).toBe(33);
    expect(cells('adx_14').findIndex((v) => v !== '')).toBe(27);
    expect(cells('obv')[0]).toBe('218.319504');
    const talib = readTable('btcusdt-1m-20210518T1800-2000.talib.csv');
    const floors: Record<string, number> = {
      macd_12_26_9: 1,
      macd_signal_12_26_9: 1,
      macd_hist_12_26_9: 1,
      obv: 1,
      roc_10: 1e-3,
    };
    for (const name of INDICATOR_OUTPUT_COLUMNS.slice(6)) {
      if (name === 'vwap') continue; // not a TA-Lib function; see technicalindicators.test.ts
      const ours = cells(name).map((v) => (v === '' ? undefined : Number(v)));
      const res = mismatches(ours, column(talib, name), { tol: 1e-9, floor: floors[name] ?? 0 });
      expect({ name, bad: res.bad }).toEqual({ name, bad: [] });
    }
    expect(r.stderr).toMatch(
      /2000 1m candles \(stamped by open time in the file\) closing 2021-05-18T18:01:00.000Z … 2021-05-20T03:20:00.000Z\n$/,
    );
  });

  it('prints JSON with null while warming up, the same numbers as CSV', async () => {
    const csv = await runCli(['indicators', '--data', BTC_SLICE]);
    const json = await runCli(['indicators', '--data', BTC_SLICE, '--format', 'json']);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as Record<string, number | null>[];
    expect(rows).toHaveLength(2000);
    expect(Object.keys(rows[0] ?? {})).toEqual([...INDICATOR_OUTPUT_COLUMNS]);
    expect(rows[0]?.sma_20).toBeNull();
    const fromCsv = parseCsv(csv.stdout).rows.map((row) =>
      Object.fromEntries(row.map((v, i) => [INDICATOR_OUTPUT_COLUMNS[i], v === '' ? null : Number(v)])),
    );
    expect(rows).toEqual(fromCsv);
  });

  it('reports a gap on stderr and does not fill it', async () => {
    // Real rows around the exchange outage of 2021-04-25 (284 minutes missing after 04:00), from the same
    // month as the slice (tooyipjee__BTC_USDT-1m.csv, GPL-3.0; see the fixtures README)
    const path = file(
      [
        'ts,open,high,low,close,volume',
        '1619323140000,49689.03,49694.46,49615.5,49615.54,13.96771',
        '1619323200000,49626.76,49705.04,49600.24,49683.94,5.887034',
        '1619340300000,49683.95,49878.13,49683.94,49864.18,50.297182',
        '1619340360000,49864.18,50125.85,49671.52,50082.18,117.631204',
        '',
      ].join('\n'),
    );
    const r = await runCli(['indicators', '--data', path, '--label', 'open']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `rxtrade indicators: gap in ${path}: 284 missing 1m candles closing 2021-04-25T04:02:00.000Z … 2021-04-25T08:45:00.000Z (not filled)\n`,
    );
    const { rows } = parseCsv(r.stdout);
    expect(rows.map((row) => row[0])).toEqual([
      '1619323200000',
      '1619323260000',
      '1619340360000',
      '1619340420000',
    ]);
    // OBV runs across the gap candle by candle: up, up, up
    expect(rows.map((row) => row[INDICATOR_OUTPUT_COLUMNS.indexOf('obv')])).toEqual([
      '13.96771',
      String(13.96771 + 5.887034),
      String(13.96771 + 5.887034 + 50.297182),
      String(13.96771 + 5.887034 + 50.297182 + 117.631204),
    ]);
  });

  it('reads --timeframe and close-stamped ISO times; vwap restarts each UTC day', async () => {
    const path = file(
      'date,open,high,low,close,volume\n' +
        '2021-04-25T23:00:00Z,10,12,8,10,1\n' + // closes 23:00 → the 22:00–23:00 candle of the 25th
        '2021-04-26T00:00:00Z,10,13,10,13,3\n' + // 23:00–24:00, still the 25th
        '2021-04-26T01:00:00Z,20,20,20,20,2\n', // 00:00–01:00, the 26th: vwap restarts
    );
    const r = await runCli(['indicators', '--data', path, '--timeframe', '1h', '--format', 'json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, number | null>[];
    expect(rows.map((row) => row.vwap)).toEqual([10, (10 + 12 * 3) / 4, 20]);
    expect(rows.map((row) => row.close_time_ms)).toEqual([1619391600000, 1619395200000, 1619398800000]);
  });

  it.each([
    [
      'ts,open,high,low,close,volume\n1619322840000,1,2,0.5,3,1\n',
      /line 2: close 3 is outside low 0.5 .. high 2/,
    ],
    ['ts,open,high,low,close\n', /line 1: missing column: need volume/],
    [
      'ts,open,high,low,close,volume\n1619322900000,1,1,1,1,1\n1619322840000,1,1,1,1,1\n',
      /line 3: .*strictly increasing/,
    ],
  ])('bad input %# → exit 1, naming the file and line, nothing on stdout', async (text, message) => {
    const path = file(text);
    const r = await runCli(['indicators', '--data', path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(path);
  });

  it('a missing file, a bad timeframe or label → exit 1 with a clear message', async () => {
    const missing = await runCli(['indicators', '--data', join(dir, 'nope.csv')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read candles file .*nope.csv: no such file/);
    const tf = await runCli(['indicators', '--data', BTC_SLICE, '--timeframe', '2m']);
    expect(tf.code).toBe(1);
    expect(tf.stderr).toMatch(/unknown timeframe "2m"/);
    const label = await runCli(['indicators', '--data', BTC_SLICE, '--label', 'middle']);
    expect(label.code).toBe(1);
    expect(label.stderr).toMatch(/--label.*middle.*open, close/s);
    const contradicting = await runCli(['indicators', '--data', BTC_SLICE, '--label', 'close']);
    expect(contradicting.code).toBe(1);
    expect(contradicting.stderr).toMatch(/line 1: the time column "open_time_ms" holds open times/);
  });

  it('has --help naming the columns', async () => {
    const r = await runCli(['indicators', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(HEADER);
    expect(r.stdout).toContain('--label <label>');
  });
});
