import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { btcMonthCsv } from './data.js';

/** Rows of the issue's measurement: Binance BTC/USDT 1m, 2023-03-16 → 2023-05-05. */
export const ISSUE_ROWS = 71_041;

let built: { readonly path: string; readonly label: string; readonly rows: number } | undefined;

/**
 * ~71 k real 1m candles for the optimize and backtest-cli benches: the shared verification file the issue
 * timed backtesting.py on (../shared/verification/btcusdt_2023_1m_open.csv, beside the main checkout or a
 * worktree) when it is there; else the project's BTC/USDT month followed by its first 28,126 rows shifted
 * to follow on (71,041 rows as well), written once to a temporary file.
 */
export function issueCandlesCsv(root: string): {
  readonly path: string;
  readonly label: string;
  readonly rows: number;
} {
  for (const up of [['..'], ['..', '..']]) {
    const p = join(root, ...up, 'shared', 'verification', 'btcusdt_2023_1m_open.csv');
    if (existsSync(p))
      return { path: p, label: 'shared/verification/btcusdt_2023_1m_open.csv', rows: ISSUE_ROWS };
  }
  if (built !== undefined) return built;
  const month = btcMonthCsv(root);
  const lines = readFileSync(month.path, 'utf8').trimEnd().split('\n');
  const header = lines[0] as string;
  const rows = lines.slice(1);
  const lastMs = Number((rows[rows.length - 1] as string).split(',')[0]);
  const shift = lastMs + 60_000 - Number((rows[0] as string).split(',')[0]);
  const more = rows.slice(0, ISSUE_ROWS - rows.length).map((r) => {
    const i = r.indexOf(',');
    const rest = r.slice(i + 1).split(',');
    rest[0] = new Date(Number(r.slice(0, i)) + shift).toISOString(); // open_time_utc
    return `${Number(r.slice(0, i)) + shift},${rest.join(',')}`;
  });
  const path = join(mkdtempSync(join(tmpdir(), 'rxtrade-bench-')), 'BTC_USDT-1m-71k.csv');
  writeFileSync(path, [header, ...rows, ...more].join('\n') + '\n');
  built = {
    path,
    label: `${month.label} + its first ${more.length} rows shifted after it`,
    rows: ISSUE_ROWS,
  };
  return built;
}
