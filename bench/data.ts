import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

let unpacked: string | undefined;

/**
 * The real BTC/USDT 1m month (42,915 candles, 2021-04-20 → 05-20) as a plain CSV: the shared data folder's
 * copy when it is there, else the project's gzip fixture unpacked once into a temporary file, so a fresh
 * clone benches on the same data.
 */
export function btcMonthCsv(root: string): { readonly path: string; readonly label: string } {
  const shared = join(root, '..', 'shared', 'data', 'tooyipjee__BTC_USDT-1m.csv');
  if (existsSync(shared)) return { path: shared, label: '../shared/data/tooyipjee__BTC_USDT-1m.csv' };
  const gz = join('test', 'fixtures', 'candles', 'tooyipjee__BTC_USDT-1m.csv.gz');
  if (unpacked === undefined) {
    unpacked = join(mkdtempSync(join(tmpdir(), 'rxtrade-bench-')), 'tooyipjee__BTC_USDT-1m.csv');
    writeFileSync(unpacked, gunzipSync(readFileSync(join(root, gz))));
  }
  return { path: unpacked, label: `${gz} (unpacked)` };
}
