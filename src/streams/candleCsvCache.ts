import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CANDLE_FIELDS, columnsOf, type CandleColumns } from './candleColumns.js';
import type { CandleColumnsFile } from './candleCsv.js';
import type { CandleCsvOptions } from './candleCsvParser.js';
import type { CandleSpacingState } from './candleSpacing.js';

/**
 * The candle CSV cache: a file's parsed columns, kept after a first read so that the next read of the same,
 * unchanged file with the same options takes them instead of parsing it again (a research loop backtests
 * one file again and again). A 71 k-row file in a fresh process: ~60 ms to parse, ~15 ms to read back.
 *
 * Where: RXTRADE_CSV_CACHE (a folder; `0`/`off` for no cache, `1`/`on` for the default), by default `$XDG_CACHE_HOME/rxtrade/candles`
 * (`~/.cache/rxtrade/candles`). One entry per file and set of options, named by hashes of them; an entry
 * holds the file's identity (its path, size, modification and change times, inode) and the options it
 * was read with, and is used only when all of them still hold: a file edited, replaced, or merely touched
 * is parsed again (and its entry replaced). Only a read that succeeded is kept; a cache that cannot be read
 * or written costs nothing but the parse. The folder can be deleted at any time.
 *
 * An entry: 8 bytes of magic, the header's length (u32 LE), the header (JSON: the key, the row count,
 * what the parse found besides the columns), padding to 8 bytes, then the six columns (float64, in the
 * machine's byte order: the cache is the machine's own).
 */

const MAGIC = Buffer.from('RXCSVC\u0000\u0001', 'latin1');
const HEAD = MAGIC.length + 4;

interface Header {
  readonly key: string;
  readonly rows: number;
  readonly symbol: string;
  readonly timeframe: string;
  readonly label: CandleColumnsFile['label'];
  readonly gaps: CandleColumnsFile['gaps'];
  readonly priceDecimals: number;
  readonly volumeDecimals: number;
  readonly spacing: CandleSpacingState;
}

/** The folder of the cache, or undefined when RXTRADE_CSV_CACHE turns it off. */
export function csvCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = (env.RXTRADE_CSV_CACHE ?? '').trim();
  if (['0', 'off', 'false', 'no'].includes(v.toLowerCase())) return undefined;
  // `1`/`on`/`true`/`yes` ask for the cache, not for a folder of that name.
  if (v !== '' && !['1', 'on', 'true', 'yes'].includes(v.toLowerCase())) return v;
  const base = env.XDG_CACHE_HOME?.trim() || join(homedir(), '.cache');
  return join(base, 'rxtrade', 'candles');
}

/** The cache entry of one file read with given options. */
export class CsvColumnsCache {
  private constructor(
    private readonly file: string,
    private readonly key: string,
  ) {}

  /** The entry for reading `path` with `options`; undefined when the cache is off or `path` is no regular file. */
  static of(
    path: string,
    options: CandleCsvOptions,
    env: NodeJS.ProcessEnv = process.env,
  ): CsvColumnsCache | undefined {
    const dir = csvCacheDir(env);
    if (dir === undefined) return undefined;
    // The path as given, not the file it may link to: a file's default symbol comes from its name, so two
    // links to one file are two reads (each still checked against the file itself: stat follows links).
    const given = resolve(path);
    let identity: string;
    try {
      const st = statSync(given, { bigint: true });
      if (!st.isFile()) return undefined;
      identity = [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(':');
    } catch {
      return undefined; // the reader says what is wrong with the path
    }
    const read = JSON.stringify([
      given,
      options.timeframe ?? '1m',
      options.label ?? null,
      options.symbol ?? null,
    ]);
    // The read (path and options) names the entry, the file's identity tells its versions apart.
    return new CsvColumnsCache(join(dir, `${hash(read)}-${hash(identity)}.bin`), `${read}|${identity}`);
  }

  /** The file's columns as last read, or undefined (no entry, or one for another version or options). */
  read(
    shared: boolean,
  ): { readonly file: CandleColumnsFile; readonly spacing: CandleSpacingState } | undefined {
    let fd: number | undefined;
    try {
      fd = openSync(this.file, 'r');
      const size = statSync(this.file).size;
      const head = Buffer.alloc(HEAD);
      if (readSync(fd, head, 0, HEAD, 0) !== HEAD || !head.subarray(0, MAGIC.length).equals(MAGIC))
        return undefined;
      const length = head.readUInt32LE(MAGIC.length);
      if (HEAD + length > size) return undefined;
      const text = Buffer.alloc(length);
      if (readSync(fd, text, 0, length, HEAD) !== length) return undefined;
      const h = JSON.parse(text.toString('utf8')) as Header;
      if (h.key !== this.key || !Number.isSafeInteger(h.rows) || h.rows < 0) return undefined;
      const start = pad8(HEAD + length);
      const bytes = h.rows * 8;
      if (size !== start + CANDLE_FIELDS.length * bytes) return undefined;
      const cols = CANDLE_FIELDS.map(
        () => new Float64Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes)),
      );
      for (const [i, col] of cols.entries()) {
        if (bytes > 0 && readSync(fd, col, 0, bytes, start + i * bytes) !== bytes) return undefined;
      }
      const columns = columnsOf(h.symbol, h.timeframe as CandleColumns['timeframe'], h.rows, cols);
      return {
        file: {
          columns,
          gaps: h.gaps,
          label: h.label,
          priceDecimals: h.priceDecimals,
          volumeDecimals: h.volumeDecimals,
        },
        spacing: h.spacing,
      };
    } catch {
      return undefined; // none, or not readable as one: the file is parsed
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** Keeps `file` (what a read of this file returned) and the spacing it saw; replaces older versions. */
  write(file: CandleColumnsFile, spacing: CandleSpacingState): void {
    const c = file.columns;
    const header: Header = {
      key: this.key,
      rows: c.length,
      symbol: c.symbol,
      timeframe: c.timeframe,
      label: file.label,
      gaps: file.gaps,
      priceDecimals: file.priceDecimals,
      volumeDecimals: file.volumeDecimals,
      spacing,
    };
    const text = Buffer.from(JSON.stringify(header), 'utf8');
    const head = Buffer.alloc(pad8(HEAD + text.length));
    MAGIC.copy(head, 0);
    head.writeUInt32LE(text.length, MAGIC.length);
    text.copy(head, HEAD);
    const dir = join(this.file, '..');
    const tmp = `${this.file}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
    let fd: number | undefined;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      fd = openSync(tmp, 'w', 0o600);
      writeSync(fd, head);
      for (const name of CANDLE_FIELDS) {
        const col = c[name];
        writeSync(fd, new Uint8Array(col.buffer, col.byteOffset, c.length * 8));
      }
      closeSync(fd);
      fd = undefined;
      // Renamed into place: a reader meanwhile finds the old entry or the new one, never half of one.
      renameSync(tmp, this.file);
      const prefix = this.file.slice(dir.length + 1).split('-')[0] as string;
      for (const f of readdirSync(dir)) {
        // This read's entries for earlier versions of the file, and what an interrupted write left.
        if (f.startsWith(`${prefix}-`) && join(dir, f) !== this.file) rmSync(join(dir, f), { force: true });
      }
    } catch {
      // Not writable: the next read parses again.
      try {
        if (fd !== undefined) closeSync(fd);
        rmSync(tmp, { force: true });
      } catch {
        // Nothing was written there.
      }
    }
  }
}

function pad8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** FNV-1a, 32 bits, base 36: a file name, not a check (the key inside is compared whole). */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}
