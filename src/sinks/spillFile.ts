import { once } from 'node:events';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { silentLogger, type Logger } from '../infra/logger.js';

/** Up to `maxLines` lines read from the spill file, and where they end (bytes after the read offset). */
export interface SpillChunk {
  readonly lines: readonly string[];
  /** Bytes the lines span, newlines included. */
  readonly bytes: number;
  /** `ends[i]`: bytes from the read offset to the end of line i. */
  readonly ends: readonly number[];
  /** Which filling of the file this chunk belongs to (see `consume`). */
  readonly generation: number;
}

/**
 * An append-only JSON-lines file of items waiting for the database, read back in order from a byte offset.
 * Appending is buffered (a write stream); reading flushes the appends first. The file is removed once
 * everything in it is consumed; a file left by a run that stopped (an outage at shutdown) is found again by
 * `resume()` and replayed from its start. The offset lives in memory only, so after a crash the file is
 * replayed whole: its writer must be idempotent (upserts).
 */
export class SpillFile {
  /** Set while the file holds lines not consumed yet (or is being appended to). */
  private state: { pending: number; readOffset: number } | undefined;
  private out: WriteStream | undefined;
  /** Bumped when the file is rewritten or removed, so a chunk read before cannot be consumed after. */
  private generation = 0;

  constructor(
    readonly path: string,
    private readonly log: Logger = silentLogger,
  ) {}

  /** True while items must go through the file (to keep their order behind the ones in it). */
  get active(): boolean {
    return this.state !== undefined;
  }

  /** Lines appended and not consumed yet. */
  get pending(): number {
    return this.state?.pending ?? 0;
  }

  /** A non-empty file from a previous run: how many lines it holds (it is then replayed first), else 0. */
  resume(): number {
    if (!existsSync(this.path) || statSync(this.path).size === 0) return 0;
    const lines = countLines(this.path);
    this.state = { pending: lines, readOffset: 0 };
    return lines;
  }

  /** Appends one item as a JSON line. True when this append started a new filling of the file. */
  append(json: unknown): boolean {
    if (this.out === undefined) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.out = createWriteStream(this.path, { flags: 'a' });
      this.out.on('error', (err) =>
        this.log.error({ err, spillPath: this.path }, 'cannot append to the spill file'),
      );
    }
    const started = this.state === undefined;
    if (started)
      this.state = { pending: 0, readOffset: existsSync(this.path) ? statSync(this.path).size : 0 };
    this.out.write(`${JSON.stringify(json)}\n`);
    this.state!.pending += 1;
    return started;
  }

  /** The next lines after the read offset (appends flushed first); empty when inactive. */
  async read(maxLines: number): Promise<SpillChunk> {
    const generation = this.generation;
    if (this.state === undefined) return { lines: [], bytes: 0, ends: [], generation };
    await this.flush();
    const offset = this.state.readOffset;
    return { ...(await readLinesAt(this.path, offset, maxLines)), generation };
  }

  /**
   * Marks the first `lines` lines of `chunk` done (stored, refused or unreadable). A chunk without lines
   * means the file is consumed: it is closed and removed (true), unless it was rewritten or appended to
   * since the chunk was read.
   */
  async consume(chunk: SpillChunk, lines: number): Promise<boolean> {
    const state = this.state;
    if (state === undefined || chunk.generation !== this.generation) return false;
    if (chunk.lines.length > 0) {
      state.readOffset += lines === 0 ? 0 : (chunk.ends[lines - 1] as number);
      state.pending = Math.max(0, state.pending - lines);
      return false;
    }
    await this.closeOut();
    // Lines appended since the chunk was read (the stream closed meanwhile, or reopened) are still to be read.
    if (chunk.generation !== this.generation || this.out !== undefined) return false;
    if (statSync(this.path).size > state.readOffset) return false;
    unlinkSync(this.path);
    this.state = undefined;
    this.generation += 1;
    return true;
  }

  /** Puts `items` before every line not consumed yet (they are older), rewriting the file atomically. */
  async prepend(items: readonly unknown[]): Promise<void> {
    await this.closeOut();
    const head = items.map((i) => `${JSON.stringify(i)}\n`).join('');
    const rest = existsSync(this.path)
      ? readFileSync(this.path).subarray(this.state?.readOffset ?? 0)
      : Buffer.alloc(0);
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, Buffer.concat([Buffer.from(head, 'utf8'), rest]));
    renameSync(tmp, this.path);
    this.state = { pending: items.length + (this.state?.pending ?? 0), readOffset: 0 };
    this.generation += 1;
  }

  /** Waits until every append is in the file. */
  async flush(): Promise<void> {
    const out = this.out;
    if (out === undefined || out.writableLength === 0) return;
    await new Promise<void>((resolve) => out.write('', () => resolve()));
  }

  /** Closes the append stream (the file and what is pending stay for the next start). */
  async close(): Promise<void> {
    await this.closeOut();
  }

  private async closeOut(): Promise<void> {
    const out = this.out;
    this.out = undefined;
    if (out === undefined) return;
    out.end();
    await once(out, 'close');
  }
}

function countLines(path: string): number {
  const text = readFileSync(path);
  let n = 0;
  for (const byte of text) if (byte === 10) n++;
  // A torn last line without its newline still counts: it is reported when replayed.
  return text.length > 0 && text[text.length - 1] !== 10 ? n + 1 : n;
}

/**
 * Up to `maxLines` complete lines starting at byte `offset`, how many bytes they span, and where (bytes
 * after `offset`) each one ends. A last line without its newline is taken only when nothing follows it
 * (the file is not being appended to: callers flush their appends first).
 */
async function readLinesAt(
  path: string,
  offset: number,
  maxLines: number,
): Promise<{ lines: string[]; bytes: number; ends: number[] }> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const lines: string[] = [];
    const ends: number[] = [];
    let consumed = 0;
    let carry = Buffer.alloc(0);
    let position = offset;
    while (lines.length < maxLines && position < size) {
      const buffer = Buffer.alloc(Math.min(1 << 20, size - position));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      let data = Buffer.concat([carry, buffer.subarray(0, bytesRead)]);
      let nl: number;
      while (lines.length < maxLines && (nl = data.indexOf(10)) >= 0) {
        lines.push(data.subarray(0, nl).toString('utf8'));
        consumed += nl + 1;
        ends.push(consumed);
        data = data.subarray(nl + 1);
      }
      carry = data;
    }
    if (lines.length < maxLines && position >= size && carry.length > 0) {
      lines.push(carry.toString('utf8'));
      consumed += carry.length;
      ends.push(consumed);
    }
    return { lines, bytes: consumed, ends };
  } finally {
    await handle.close();
  }
}
