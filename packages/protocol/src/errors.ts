/**
 * Every error that comm throws or reports is a `CommError` with a stable string `code`.
 * Match on `err.code`, not on `instanceof`: codes keep working when two copies of a
 * package are installed side by side.
 *
 * @example
 * ```ts
 * try { encodeLine('a\nb'); } catch (err) {
 *   if (err instanceof Error && (err as CommError).code === 'COMM_LINE_HAS_BREAK') { ... }
 * }
 * ```
 */
export class CommError extends Error {
  /** A stable machine-readable code, `COMM_` followed by the case. */
  readonly code: string;

  constructor(message: string, code = 'COMM_ERROR', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommError';
    this.code = code;
  }
}

/** A line is longer than the byte limit; the decoder dropped it up to its LF and goes on. */
export class LineTooLongError extends CommError {
  override readonly code = 'COMM_LINE_TOO_LONG' as const;
  /** The limit that was passed, in bytes (the line ending not counted). */
  readonly maxLineLength: number;

  constructor(maxLineLength: number, message = `line too long: more than ${maxLineLength} bytes`) {
    super(message, 'COMM_LINE_TOO_LONG');
    this.name = 'LineTooLongError';
    this.maxLineLength = maxLineLength;
  }
}

/** A line is not valid UTF-8 and the decoder's policy is `'error'`; the line is dropped. */
export class InvalidUtf8Error extends CommError {
  override readonly code = 'COMM_INVALID_UTF8' as const;

  constructor(message = 'invalid utf-8 in line') {
    super(message, 'COMM_INVALID_UTF8');
    this.name = 'InvalidUtf8Error';
  }
}

/** A string given to the encoder contains CR or LF, so it cannot be sent as one line. */
export class LineHasBreakError extends CommError {
  override readonly code = 'COMM_LINE_HAS_BREAK' as const;

  constructor(message = 'line contains CR or LF: a line is sent without its line ending') {
    super(message, 'COMM_LINE_HAS_BREAK');
    this.name = 'LineHasBreakError';
  }
}

/** An option has a value outside its range. */
export class InvalidOptionError extends CommError {
  override readonly code = 'COMM_INVALID_OPTION' as const;

  constructor(message: string) {
    super(message, 'COMM_INVALID_OPTION');
    this.name = 'InvalidOptionError';
  }
}

/** The errors a line decoder reports in place of a line. */
export type LineError = LineTooLongError | InvalidUtf8Error;

/**
 * True for the errors a decoder reports in place of a line (as opposed to a decoded string).
 * It matches on `code`, so it also recognises errors from another copy of this package.
 *
 * @example
 * ```ts
 * for (const item of decoder.push(chunk)) {
 *   if (isLineError(item)) reply(errorReply(item)); // 'ERR COMM_LINE_TOO_LONG ...' (R12)
 *   else reply(item);
 * }
 * ```
 */
export function isLineError(item: unknown): item is LineError {
  if (!(item instanceof Error)) return false;
  const code = (item as { code?: unknown }).code;
  return code === 'COMM_LINE_TOO_LONG' || code === 'COMM_INVALID_UTF8';
}
