/**
 * Every error code rxtrade uses, one closed set, each with who has to act: `input` (the user: a flag, a
 * file, a setting, a service they pointed at; CLI exit 1, HTTP 4xx/503), `internal` (a bug to report; exit
 * 2 with the stack, HTTP 500) or `interrupted` (a stop that was asked for; exit 130). A new code is added
 * here, or the compiler refuses it.
 */
export const ERROR_CODES = {
  usage: 'input',
  invalid_data: 'input',
  not_found: 'input',
  conflict: 'input',
  unauthorized: 'input',
  db_locked: 'input',
  db_folder: 'input',
  db_unavailable: 'input',
  queue_unavailable: 'input',
  config_unreadable: 'input',
  okx_rest: 'input',
  timeout: 'input',
  no_instance: 'input',
  invalid_argument: 'internal',
  internal: 'internal',
  bot_stalled: 'internal',
  backtest_failed: 'internal',
  interrupted: 'interrupted',
} as const satisfies Record<string, 'input' | 'internal' | 'interrupted'>;

export type ErrorCode = keyof typeof ERROR_CODES;
export type ErrorKind = (typeof ERROR_CODES)[ErrorCode];

/**
 * Errors carry a stable machine-readable `code` (for logs, exit codes and HTTP bodies) and a message
 * written for the person who has to fix the input.
 */
export class RxtradeError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RxtradeError';
  }

  /** Who has to act on it: the user (`input`), a developer (`internal`), nobody (`interrupted`). */
  get kind(): ErrorKind {
    return ERROR_CODES[this.code];
  }
}

/** A state the code should never reach (a broken invariant, a call out of order): a bug to report. */
export class InternalError extends RxtradeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('internal', message, options);
    this.name = 'InternalError';
  }
}

/** Impossible market data (NaN price, negative size, misaligned candle...): fail fast, name the field. */
export class InvalidDataError extends RxtradeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid_data', message, options);
    this.name = 'InvalidDataError';
  }
}

/** Bad user input: a flag, a config key, a file that cannot be read. */
export class UsageError extends RxtradeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('usage', message, options);
    this.name = 'UsageError';
  }
}

/** A named thing (bot, backtest run, symbol) that does not exist: HTTP 404. */
export class NotFoundError extends RxtradeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('not_found', message, options);
    this.name = 'NotFoundError';
  }
}

/** A request that the current state forbids (resume a bot that is not paused, a second start): HTTP 409. */
export class ConflictError extends RxtradeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('conflict', message, options);
    this.name = 'ConflictError';
  }
}

/**
 * An embedded (PGlite) database folder already held by another process. PGlite is single-process: two
 * processes writing one folder destroy it, so the second is refused and told who holds it.
 */
export class DatabaseLockedError extends RxtradeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('db_locked', message, options);
    this.name = 'DatabaseLockedError';
  }
}

/** A PGlite path that cannot hold a database (a file, /proc, a folder of other files, a corrupt database). */
export class DatabaseFolderError extends RxtradeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('db_folder', message, options);
    this.name = 'DatabaseFolderError';
  }
}

/**
 * Work stopped on purpose before it finished: Ctrl-C, or `stop()` on its owner. Not a failure: whoever asked
 * for the stop expects it and lets it pass; the CLI exits 130 (the shell's code for an interrupt).
 */
export class InterruptedError extends RxtradeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('interrupted', message, options);
    this.name = 'InterruptedError';
  }
}

/** Bad input at a known place (a request field, a config key): `field` is its dotted path (`risk.sizing.type`). */
export class InvalidFieldError extends UsageError {
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InvalidFieldError';
  }
}

/** A request without the credentials it needs (the API token): HTTP 401. */
export class UnauthorizedError extends RxtradeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unauthorized', message, options);
    this.name = 'UnauthorizedError';
  }
}
