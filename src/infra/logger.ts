import { pino } from 'pino';

/** The logging surface components depend on (pino's signature), so tests can pass a recording twin. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** JSON lines on stderr (stdout stays for command output), at `level` (LOG_LEVEL, default info). */
export function createLogger(
  level: LogLevel = 'info',
  name = 'rxtrade',
  stream?: NodeJS.WritableStream,
): Logger {
  return pino({ name, level, base: undefined }, stream ?? pino.destination({ fd: 2, sync: false }));
}

export interface LogRecord {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** A Logger that keeps what it is told, for tests. */
export class RecordingLogger implements Logger {
  constructor(
    readonly records: LogRecord[] = [],
    private readonly bindings: Record<string, unknown> = {},
  ) {}
  debug(obj: object, msg = ''): void {
    this.records.push({ ...this.bindings, ...obj, level: 'debug', msg });
  }
  info(obj: object, msg = ''): void {
    this.records.push({ ...this.bindings, ...obj, level: 'info', msg });
  }
  warn(obj: object, msg = ''): void {
    this.records.push({ ...this.bindings, ...obj, level: 'warn', msg });
  }
  error(obj: object, msg = ''): void {
    this.records.push({ ...this.bindings, ...obj, level: 'error', msg });
  }
  child(bindings: Record<string, unknown>): Logger {
    return new RecordingLogger(this.records, { ...this.bindings, ...bindings });
  }
}

export const silentLogger: Logger = new RecordingLogger([]);
