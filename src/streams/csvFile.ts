import { constants, createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { InvalidDataError, RxtradeError, UsageError } from '../domain/errors.js';

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
  let lineNo = 0;
  let sawHeader = false;
  const onLine = (raw: string): void => {
    lineNo += 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim().length === 0) return;
    if (sawHeader) handlers.row(line, lineNo);
    else {
      handlers.header(line);
      sawHeader = true;
    }
  };
  let rest = '';
  let bytesRead = 0;
  try {
    for await (const chunk of await openTextInput(path, 1 << 20)) {
      const text = rest + (chunk as string);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        onLine(text.slice(start, nl));
        start = nl + 1;
      }
      rest = text.slice(start);
      bytesRead += Buffer.byteLength(chunk as string);
      handlers.onProgress?.(bytesRead);
    }
  } catch (err) {
    if (err instanceof RxtradeError) throw err; // the callbacks' own errors (bad data, a missing symbol)
    throw new UsageError(`cannot read ${what} file ${path}: ${describeFsError(err)}`, { cause: err });
  }
  if (rest.length > 0) onLine(rest);
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
 * (Node joins those threads on exit), so Ctrl-C could not stop the command.
 */
export async function openTextInput(path: string, highWaterMark: number): Promise<AsyncIterable<string>> {
  const info = await stat(path);
  if (!info.isFIFO()) return createReadStream(path, { encoding: 'utf8', highWaterMark });
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const socket = new Socket({ fd: handle.fd, readable: true, writable: false });
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
