import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Timeframe } from '../../src/domain/timeframe.js';
import { runCli } from '../support/cli.js';
import { loadTradesCsv, REFERENCE_TIMEFRAME_MS, referenceCandles } from '../support/referenceCandles.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const BTC = join(root, 'samples/binance_spot_BTCUSDT_trades_20240808T2354_20240809T0005.csv');
const USDM = join(root, 'samples/binance_usdm_BTCUSDT_trades_20240808T2354_20240808T2359.csv');
const HEADER = 'symbol,timeframe,close_time_ms,close_time,open,high,low,close,volume,trades_count';
const dir = mkdtempSync(join(tmpdir(), 'rxtrade-cli-'));

interface Row {
  symbol: string;
  timeframe: string;
  close_time_ms: number;
  close_time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  trades_count: number;
}

function parseCsv(text: string): Row[] {
  const [header, ...lines] = text.trim().split('\n');
  expect(header).toBe(HEADER);
  return lines.map((line) => {
    const f = line.split(',');
    return {
      symbol: f[0] as string,
      timeframe: f[1] as string,
      close_time_ms: Number(f[2]),
      close_time: f[3] as string,
      open: Number(f[4]),
      high: Number(f[5]),
      low: Number(f[6]),
      close: Number(f[7]),
      volume: Number(f[8]),
      trades_count: Number(f[9]),
    };
  });
}

/** The reference candles, without those whose interval began before the first trade (partial). */
function expectedRows(path: string, symbol: string, timeframes: Timeframe[]): Row[] {
  const trades = loadTradesCsv(path, symbol);
  const first = Math.min(...trades.map((t) => t.tsMs));
  return timeframes
    .flatMap((tf) => referenceCandles(trades, tf))
    .filter((c) => c.closeTimeMs - REFERENCE_TIMEFRAME_MS[c.timeframe] >= first)
    .sort(
      (a, b) =>
        a.closeTimeMs - b.closeTimeMs || timeframes.indexOf(a.timeframe) - timeframes.indexOf(b.timeframe),
    )
    .map((c) => ({
      symbol: c.symbol,
      timeframe: c.timeframe,
      close_time_ms: c.closeTimeMs,
      close_time: new Date(c.closeTimeMs).toISOString(),
      open: c.open,
      high: c.high,
      low: c.low,
      close: c.close,
      // The CLI prints sums with the input's 8 decimals.
      volume: Number(c.volume.toFixed(8)),
      trades_count: c.tradesCount,
    }));
}

describe('rxtrade candles', () => {
  it('prints every closed candle of every timeframe, equal to the reference, in time order', async () => {
    const timeframes: Timeframe[] = ['1m', '5m', '15m', '1h', '4h', '1d'];
    const r = await runCli([
      'candles',
      '--trades',
      BTC,
      '--symbol',
      'BTC-USDT',
      '--timeframes',
      timeframes.join(','),
    ]);
    expect(r.code).toBe(0);
    const rows = parseCsv(r.stdout);
    expect(rows).toEqual(expectedRows(BTC, 'BTC-USDT', timeframes));
    // The file starts at 23:54:15: the first minute and the 5m…1d intervals holding it are partial.
    expect(rows.filter((x) => x.timeframe === '1m')).toHaveLength(10);
    expect(rows.filter((x) => x.timeframe === '1h' || x.timeframe === '1d')).toEqual([]);
    // The still-forming intervals (00:05–00:06 for 1m, 00:05–00:10 for 5m) are not printed.
    expect(Math.max(...rows.map((x) => x.close_time_ms))).toBe(Date.UTC(2024, 7, 9, 0, 5));
    expect(r.stderr).toMatch(/19904 trades of BTC-USDT/);
  });

  it('prints JSON with the same keys and values as CSV', async () => {
    const csv = await runCli(['candles', '--trades', USDM, '--timeframes', '1m,5m', '-q']);
    const json = await runCli([
      'candles',
      '--trades',
      USDM,
      '--timeframes',
      '1m,5m',
      '--format',
      'json',
      '-q',
    ]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(parseCsv(csv.stdout));
    expect(parseCsv(csv.stdout)).toEqual(expectedRows(USDM, 'BTC-USDT', ['1m', '5m']));
    expect(csv.stderr).toBe('');
  });

  it('labels candles from the file name unless --symbol is given, and says so', async () => {
    const r = await runCli(['candles', '--trades', USDM]);
    expect(r.stdout.split('\n')[1]).toMatch(/^BTC-USDT,1m,/);
    expect(r.stderr).toMatch(/labelled the candles BTC-USDT \(from the file name; --symbol sets it\)/);
    const s = await runCli(['candles', '--trades', USDM, '--symbol', 'BTC-USD-SWAP', '-q']);
    expect(s.stdout.split('\n')[1]).toMatch(/^BTC-USD-SWAP,1m,/);
  });

  it('fills quiet minutes with zero-volume candles at the previous close, across hours', async () => {
    const t0 = Date.UTC(2024, 0, 1, 10, 0, 30);
    const path = join(dir, 'quiet.csv');
    writeFileSync(
      path,
      'trade_id,price,qty,trade_time_ms\n' +
        `1,100,1,${t0}\n2,101,2,${t0 + 10_000}\n` + // 10:00 minute
        `3,99,1,${t0 + 3 * 3_600_000}\n`, // 13:00:30, three quiet hours later: still forming
    );
    const r = await runCli([
      'candles',
      '--trades',
      path,
      '--symbol',
      'X',
      '--timeframes',
      '1m,1h',
      '--keep-partial',
      '-q',
    ]);
    const rows = parseCsv(r.stdout);
    const minutes = rows.filter((x) => x.timeframe === '1m');
    expect(minutes).toHaveLength(180); // 10:01 … 13:00
    expect(minutes[0]).toMatchObject({
      open: 100,
      high: 101,
      low: 100,
      close: 101,
      volume: 3,
      trades_count: 2,
    });
    expect(
      minutes
        .slice(1)
        .every((m) => m.open === 101 && m.close === 101 && m.volume === 0 && m.trades_count === 0),
    ).toBe(true);
    expect(rows.filter((x) => x.timeframe === '1h').map((x) => [x.close_time, x.open, x.volume])).toEqual([
      ['2024-01-01T11:00:00.000Z', 100, 3],
      ['2024-01-01T12:00:00.000Z', 101, 0],
      ['2024-01-01T13:00:00.000Z', 101, 0],
    ]);
  });

  it('leaves out the partial first interval of every timeframe, says so, and prints it with --keep-partial', async () => {
    // Trades from 10:58:30 to 12:00:10: the 10:59 minute and the 11:00 hour began before the first trade.
    const t0 = Date.UTC(2024, 0, 1, 10, 58, 30);
    const path = join(dir, 'partial.csv');
    const lines = ['trade_id,price,qty,trade_time_ms'];
    for (let i = 0; i <= 62; i++) lines.push(`${i + 1},${100 + i},1,${t0 + i * 60_000}`);
    lines.push(`64,99,1,${Date.UTC(2024, 0, 1, 12, 0, 10)}`);
    writeFileSync(path, `${lines.join('\n')}\n`);
    const argv = ['candles', '--trades', path, '--symbol', 'X', '--timeframes', '1m,1h'];
    const r = await runCli(argv);
    expect(r.code).toBe(0);
    const rows = parseCsv(r.stdout);
    expect(
      rows.filter((x) => x.timeframe === '1h').map((x) => [x.close_time, x.open, x.trades_count]),
    ).toEqual([['2024-01-01T12:00:00.000Z', 102, 60]]);
    expect(rows.find((x) => x.timeframe === '1m')?.close_time).toBe('2024-01-01T11:00:00.000Z');
    expect(r.stderr).toContain(
      'rxtrade candles: left out 2 partial candles (the interval began before the first trade, 2024-01-01T10:58:30.000Z): ' +
        '1m closing 2024-01-01T10:59:00.000Z, 1h closing 2024-01-01T11:00:00.000Z; --keep-partial prints them\n',
    );
    const kept = await runCli([...argv, '--keep-partial']);
    const all = parseCsv(kept.stdout);
    expect(all.filter((x) => x.timeframe === '1h').map((x) => [x.close_time, x.trades_count])).toEqual([
      ['2024-01-01T11:00:00.000Z', 2],
      ['2024-01-01T12:00:00.000Z', 60],
    ]);
    expect(all).toHaveLength(rows.length + 2);
    expect(kept.stderr).not.toMatch(/partial/);
  });

  it('refuses --symbol on a file holding several symbols, naming them, and keeps them apart without it', async () => {
    const path = join(dir, 'two-symbols.csv');
    writeFileSync(
      path,
      'symbol,trade_id,price,qty,ts\n' +
        'BTC-USDT,1,100,1,1723161600000\nETH-USDT,1,10,2,1723161610000\n' +
        'BTC-USDT,2,101,1,1723161620000\nETH-USDT,2,11,2,1723161630000\n' +
        'BTC-USDT,3,102,1,1723161670000\nETH-USDT,3,12,1,1723161680000\n',
    );
    const r = await runCli(['candles', '--trades', path, '--symbol', 'BTC-USDT']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `rxtrade: ${path} holds trades of 2 symbols (BTC-USDT from line 2, ETH-USDT from line 3): ` +
        '--symbol BTC-USDT would label them all BTC-USDT and merge them; leave --symbol out to keep each symbol apart\n',
    );
    const apart = await runCli(['candles', '--trades', path, '--keep-partial', '-q']);
    expect(parseCsv(apart.stdout).map((x) => [x.symbol, x.open, x.close, x.volume])).toEqual([
      ['BTC-USDT', 100, 101, 2],
      ['ETH-USDT', 10, 11, 4],
    ]);
  });

  it('drops a repeated trade id (the same symbol) once, with a note naming the lines', async () => {
    const path = join(dir, 'dup.csv');
    writeFileSync(
      path,
      'trade_id,price,qty,ts\n1,100,1,1723161600000\n2,101,1,1723161610000\n2,101,1,1723161610000\n' +
        '3,102,1,1723161630000\n4,103,1,1723161670000\n',
    );
    const r = await runCli(['candles', '--trades', path, '--symbol', 'X', '--keep-partial']);
    expect(r.code).toBe(0);
    expect(parseCsv(r.stdout).map((x) => [x.volume, x.trades_count, x.close])).toEqual([[3, 3, 102]]);
    expect(r.stderr).toContain(
      'rxtrade candles: dropped 1 duplicate trade (same symbol and trade id as an earlier row; first: line 4 repeats trade 2 of X from line 3)\n',
    );
  });

  it.each([
    [
      ['candles', '--trades', '/nonexistent/trades.csv'],
      /cannot read trades file \/nonexistent\/trades.csv: no such file/,
    ],
    [['candles', '--trades', BTC, '--timeframes', '1m,2h'], /unknown timeframe "2h"/],
    [
      ['candles', '--trades', BTC, '--format', 'xml'],
      /argument 'xml' is invalid. Allowed choices are csv, json/,
    ],
    [['candles'], /required option '--trades <file>' not specified/],
    [['candles', '--trades', BTC, '--bogus'], /unknown option '--bogus'/],
    [['candles', '--trades', BTC, '--symbol', ' '], /--symbol is empty/],
  ])('fails with exit code 1 and a clear message: %j', async (argv, message) => {
    const r = await runCli(argv);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('names the bad line of a malformed file and prints nothing else', async () => {
    const path = join(dir, 'bad.csv');
    writeFileSync(path, 'trade_id,price,qty,trade_time_ms\n1,100,1,1704103230000\n2,100,-3,1704103231000\n');
    const r = await runCli(['candles', '--trades', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`rxtrade: ${path} line 3: size "-3" is negative\n`);
    expect(r.stdout).toBe('');
  });

  it('has help that lists the output columns', async () => {
    const r = await runCli(['candles', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(HEADER);
  });
});

describe('the rxtrade bin (built by npm run build / npm ci)', () => {
  const run = promisify(execFile);
  const bin = join(root, 'bin/rxtrade.js');

  it('prints help and the version', async () => {
    const help = await run(process.execPath, [bin, '--help']);
    expect(help.stdout).toMatch(/Usage: rxtrade \[options\] \[command\]/);
    expect(help.stdout).toMatch(/candles \[options\]/);
    const version = await run(process.execPath, [bin, '--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('runs candles end to end and exits 1 with a message on a missing file', async () => {
    const ok = await run(process.execPath, [bin, 'candles', '--trades', USDM, '-q']);
    expect(ok.stdout.split('\n')[0]).toBe(HEADER);
    await expect(
      run(process.execPath, [bin, 'candles', '--trades', '/nonexistent.csv']),
    ).rejects.toMatchObject({
      code: 1,
      stderr: 'rxtrade: cannot read trades file /nonexistent.csv: no such file\n',
    });
  });
});
