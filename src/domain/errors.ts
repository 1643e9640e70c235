/**
 * Errors carry a stable machine-readable `code` (for logs, exit codes and HTTP bodies) and a message
 * written for the person who has to fix the input.
 */
export class RxtradeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RxtradeError';
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
