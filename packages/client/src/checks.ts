import { InvalidOptionError, LineHasBreakError } from '@comm/protocol';

/** A duration option in milliseconds: 0 means no limit, and setTimeout takes at most 2^31 - 1. */
export function checkMilliseconds(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || value > 2 ** 31 - 1) {
    throw new InvalidOptionError(`${name} must be milliseconds from 0 to 2147483647, got ${String(value)}`);
  }
  return value;
}

/** A line to send: a string without CR or LF, checked before it is queued so the right call fails. */
export function checkLine(line: string): void {
  if (typeof line !== 'string') throw new InvalidOptionError(`a line must be a string, got ${typeof line}`);
  if (line.indexOf('\n') !== -1 || line.indexOf('\r') !== -1) throw new LineHasBreakError();
}
