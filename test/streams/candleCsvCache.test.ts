import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCandleCsvColumns, type CandleColumnsFile } from '../../src/streams/candleCsv.js';
import { csvCacheDir } from '../../src/streams/candleCsvCache.js';
import { CandleSpacing } from '../../src/streams/candleSpacing.js';
import { MAY_SLICE } from '../backtests/support.js';
import { cleanEnv, runBuiltCli } from '../support/builtCli.js';

/**
 * The candle CSV cache (src/streams/candleCsvCache.ts): a file read again, unchanged and with the same
 * options, comes back as it was read the first time; anything else is parsed.
 */

const START = Date.UTC(2024, 0, 1);

/** `rows` 1m candles (`ts`: close times unless told), one missing after row 50 (a gap); closes at `.cents`. */
function csv(rows: number, cents = '75'): string {
  const lines = ['ts,open,high,low,close,volume'];
  for (let i = 0, t = START; i < rows; i++, t += 60_000) {
    if (i === 50) t += 60_000;
    const p = 100 + i;
    lines.push(`${t},${p}.25,${p + 1}.5,${p - 1}.125,${p}.${cents},${i + 1}.5`);
  }
  return lines.join('\n') + '\n';
}

const plain = (f: CandleColumnsFile) => ({
  ...f,
  columns: {
    ...f.columns,
    closeTimeMs: [...f.columns.closeTimeMs],
    open: [...f.columns.open],
    high: [...f.columns.high],
    low: [...f.columns.low],
    close: [...f.columns.close],
    volume: [...f.columns.volume],
  },
});

describe('the candle CSV cache', () => {
  let dir: string;
  let cacheDir: string;
  let file: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rxtrade-csvcache-'));
    cacheDir = join(dir, 'cache');
    file = join(dir, 'BTC-USDT_1m.csv');
    writeFileSync(file, csv(200));
    env = { RXTRADE_CSV_CACHE: cacheDir };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const entries = (): string[] => {
    try {
      return readdirSync(cacheDir);
    } catch {
      return [];
    }
  };
  /** Doubles the first close in the cache's only entry: a read that returns it came from the cache. */
  const markEntry = (): void => {
    const [name] = entries();
    const path = join(cacheDir, name as string);
    const bytes = readFileSync(path);
    const rows = 200;
    const closeAt = bytes.length - 2 * rows * 8; // the fifth of six columns
    bytes.writeDoubleLE(bytes.readDoubleLE(closeAt) * 2, closeAt);
    writeFileSync(path, bytes);
  };

  it('keeps a read, and gives it back for the unchanged file: columns, gaps, label, decimals, spacing', async () => {
    const spacing = new CandleSpacing();
    const first = await readCandleCsvColumns(file, { spacing }, env);
    expect(first.columns.length).toBe(200);
    expect(first.gaps).toHaveLength(1);
    expect(entries()).toHaveLength(1);
    const again = new CandleSpacing();
    const second = await readCandleCsvColumns(file, { spacing: again }, env);
    expect(plain(second)).toEqual(plain(first));
    expect(again.snapshot()).toEqual(spacing.snapshot());
    expect(again.describe()).toBe(spacing.describe());
    // Served from the entry, not parsed again.
    markEntry();
    const third = await readCandleCsvColumns(file, {}, env);
    expect(third.columns.close[0]).toBe((first.columns.close[0] as number) * 2);
  });

  it('an edited file (even of the same size) or a touched one is parsed again, and its entry replaced', async () => {
    await readCandleCsvColumns(file, {}, env);
    markEntry();
    writeFileSync(file, csv(200, '85')); // the same length: every close 10 cents higher
    expect(statSync(file).size).toBe(csv(200).length);
    const edited = await readCandleCsvColumns(file, {}, env);
    expect(edited.columns.close[0]).toBe(100.85);
    expect(entries()).toHaveLength(1);
    markEntry();
    const now = new Date();
    utimesSync(file, now, now);
    expect((await readCandleCsvColumns(file, {}, env)).columns.close[0]).toBe(100.85);
  });

  it('other options are other entries, each right', async () => {
    const close = await readCandleCsvColumns(file, { label: 'close' }, env);
    const open = await readCandleCsvColumns(file, { label: 'open' }, env);
    const other = await readCandleCsvColumns(file, { symbol: 'ETH-USDT' }, env);
    expect(entries()).toHaveLength(3);
    // An open-time label stamps each candle a minute later.
    expect((open.columns.closeTimeMs[0] as number) - (close.columns.closeTimeMs[0] as number)).toBe(60_000);
    expect(other.columns.symbol).toBe('ETH-USDT');
    for (const [opts, want] of [
      [{ label: 'close' as const }, close],
      [{ label: 'open' as const }, open],
      [{ symbol: 'ETH-USDT' }, other],
    ] as const) {
      expect(plain(await readCandleCsvColumns(file, opts, env))).toEqual(plain(want));
    }
  });

  it('an entry cut short, or not one at all, is parsed over and made again', async () => {
    const first = await readCandleCsvColumns(file, {}, env);
    const path = join(cacheDir, entries()[0] as string);
    const good = readFileSync(path);
    for (const bad of [
      good.subarray(0, good.length - 8),
      Buffer.from('garbage'.repeat(500)),
      Buffer.alloc(0),
    ]) {
      writeFileSync(path, bad);
      expect(plain(await readCandleCsvColumns(file, {}, env))).toEqual(plain(first));
      expect(readFileSync(path).equals(good)).toBe(true);
    }
  });

  it('shared columns come back on SharedArrayBuffers', async () => {
    await readCandleCsvColumns(file, {}, env);
    const shared = await readCandleCsvColumns(file, { shared: true }, env);
    expect(shared.columns.close.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.columns.close[1]).toBe(101.75);
  });

  it('a file that does not read keeps no entry; off, or a folder it cannot write, keeps none either', async () => {
    writeFileSync(file, csv(10) + 'not,a,candle,row,at,all\n');
    await expect(readCandleCsvColumns(file, {}, env)).rejects.toThrow(/line 12/);
    expect(entries()).toEqual([]);
    writeFileSync(file, csv(10));
    const off = { RXTRADE_CSV_CACHE: '0' };
    expect(csvCacheDir(off)).toBeUndefined();
    expect((await readCandleCsvColumns(file, {}, off)).columns.length).toBe(10);
    writeFileSync(cacheDir, 'a file where the folder would be');
    expect((await readCandleCsvColumns(file, {}, env)).columns.length).toBe(10);
  });

  it('two links to one file keep the symbol each name gives', async () => {
    const btc = join(dir, 'BTC-USDT.csv');
    const eth = join(dir, 'ETH-USDT.csv');
    symlinkSync(file, btc);
    symlinkSync(file, eth);
    for (let round = 0; round < 2; round++) {
      expect((await readCandleCsvColumns(btc, {}, env)).columns.symbol).toBe('BTC-USDT');
      expect((await readCandleCsvColumns(eth, {}, env)).columns.symbol).toBe('ETH-USDT');
    }
    expect(entries()).toHaveLength(2);
  });

  it('lives in $XDG_CACHE_HOME/rxtrade/candles unless told', () => {
    expect(csvCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/rxtrade/candles');
    for (const on of ['1', 'on', 'TRUE', 'yes']) {
      expect(csvCacheDir({ XDG_CACHE_HOME: '/x', RXTRADE_CSV_CACHE: on })).toBe('/x/rxtrade/candles');
    }
    expect(csvCacheDir({ RXTRADE_CSV_CACHE: '/y' })).toBe('/y');
    expect(csvCacheDir({ RXTRADE_CSV_CACHE: 'off' })).toBeUndefined();
  });

  it('the built backtest prints the same from the cache as from the file', async () => {
    const args = ['backtest', '--strategy', 'sma_cross', '--data', MAY_SLICE, '--json'];
    const withCache = cleanEnv({ RXTRADE_CSV_CACHE: cacheDir });
    const parsed = await runBuiltCli(args, { env: withCache });
    expect(entries()).toHaveLength(1);
    const cached = await runBuiltCli(args, { env: withCache });
    const off = await runBuiltCli(args, { env: cleanEnv({ RXTRADE_CSV_CACHE: '0' }) });
    expect(parsed.code).toBe(0);
    expect(parsed.stdout.length).toBeGreaterThan(1000);
    for (const r of [cached, off]) {
      expect(r.stdout).toBe(parsed.stdout);
      expect(r.stderr).toBe(parsed.stderr);
    }
  });
});
