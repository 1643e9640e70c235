import { createReadStream } from 'node:fs';
import { InvalidDataError, UsageError } from '../domain/errors.js';

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
    for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
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
    if (err instanceof InvalidDataError) throw err;
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

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return err instanceof Error ? err.message : String(err);
}
