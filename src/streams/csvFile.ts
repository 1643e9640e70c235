import { constants, createReadStream, open, stat } from 'node:fs';
import { promisify } from 'node:util';
import { InvalidDataError, UsageError } from '../domain/errors.js';

/** Consecutive lines of a text file (CR stripped; blank ones included, so line numbers count). */
export interface LineChunk {
  readonly lines: readonly string[];
  /** The 1-based line number of `lines[0]`. */
  readonly firstLineNo: number;
  /** Bytes read from the file so far. */
  readonly bytesRead: number;
}

/**
 * The lines of a text file, a read (`highWaterMark` bytes) at a time; the last line needs no newline. A
 * file that cannot be read is a UsageError naming `what` and the path. Stopping early closes the file.
 * The one line reader of CSV inputs: `readCsvLines` pushes them to callbacks; a consumer that must pause
 * between lines (an import writing batches) iterates this itself.
 */
export async function* textLines(
  path: string,
  what: string,
  highWaterMark: number,
): AsyncGenerator<LineChunk> {
  const unreadable = (err: unknown): UsageError =>
    new UsageError(`cannot read ${what} file ${path}: ${describeFsError(err)}`, { cause: err });
  let iterator: AsyncIterator<string>;
  try {
    iterator = (await openTextInput(path, highWaterMark))[Symbol.asyncIterator]();
  } catch (err) {
    throw unreadable(err);
  }
  let rest = '';
  let lineNo = 1;
  let bytesRead = 0;
  try {
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await iterator.next();
      } catch (err) {
        throw unreadable(err);
      }
      if (next.done === true) break;
      const lines = (rest + next.value).split('\n');
      rest = lines.pop() as string;
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i] as string;
        if (line.charCodeAt(line.length - 1) === 13) lines[i] = line.slice(0, -1);
      }
      bytesRead += Buffer.byteLength(next.value);
      yield { lines, firstLineNo: lineNo, bytesRead };
      lineNo += lines.length;
    }
  } finally {
    await iterator.return?.();
  }
  if (rest.length > 0) {
    const line = rest.charCodeAt(rest.length - 1) === 13 ? rest.slice(0, -1) : rest;
    yield { lines: [line], firstLineNo: lineNo, bytesRead };
  }
}

/**
 * Reads a CSV file with a header row, in 1 MB chunks: `header` gets the first non-blank line, `row` every
 * later non-blank line with its 1-based line number (CR stripped). A file that cannot be read is a
 * UsageError naming `what` and the path; errors thrown by the callbacks pass through unchanged.
 */
export async function readCsvLines(
  path: string,
  what: string,
  handlers: {
    header(line: string): void;
    row(line: string, lineNo: number): void;
    onProgress?: (bytesRead: number) => void;
  },
): Promise<void> {
  let sawHeader = false;
  let bytesRead = 0;
  for await (const chunk of textLines(path, what, 1 << 20)) {
    const { lines, firstLineNo } = chunk;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line.trim().length === 0) continue;
      if (sawHeader) handlers.row(line, firstLineNo + i);
      else {
        handlers.header(line);
        sawHeader = true;
      }
    }
    // Once per read (the last line of a file without a final newline comes after the last read).
    if (chunk.bytesRead !== bytesRead) handlers.onProgress?.(chunk.bytesRead);
    bytesRead = chunk.bytesRead;
  }
  if (!sawHeader)
    throw new InvalidDataError(`${path}: the file is empty (expected a header row and ${what})`);
}

const MAX_DECIMALS = 15;

/** Decimal places written in a number's text (15 for exponent notation): how precisely to print sums. */
export function decimalsOf(text: string): number {
  if (/[eE]/.test(text)) return MAX_DECIMALS;
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : Math.min(MAX_DECIMALS, text.length - dot - 1);
}

/**
 * The text of `path` as a stream of chunks. A regular file is read through the thread pool as usual. A FIFO
 * (`--data <(zcat …)`, `mkfifo`) is opened non-blocking and read through the event loop like a pipe: a
 * thread-pool read blocked on a FIFO whose writer stays open would keep the process from exiting at all
 * (Node joins those threads on exit), so Ctrl-C could not stop the command. The FIFO is opened as a plain
 * descriptor, which the socket owns and closes: a FileHandle left behind would be closed again by the
 * garbage collector (a warning on stderr, and possibly another file's descriptor by then).
 */
export async function openTextInput(path: string, highWaterMark: number): Promise<AsyncIterable<string>> {
  const info = await promisify(stat)(path);
  if (!info.isFIFO()) return createReadStream(path, { encoding: 'utf8', highWaterMark });
  // node:net (and node:fs/promises above) only when needed: each costs every command that reads a CSV
  // ~1.2–1.7 ms to load.
  const { Socket } = await import('node:net');
  const fd = await promisify(open)(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const socket = new Socket({ fd, readable: true, writable: false });
  socket.setEncoding('utf8');
  return socket as AsyncIterable<string>;
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return err instanceof Error ? err.message : String(err);
}
