import { describe, expect, it } from 'vitest';
import { CommError, InvalidOptionError, InvalidUtf8Error, LineHasBreakError, LineTooLongError, isLineError } from './errors.js';

describe('errors', () => {
  const cases: Array<[CommError, string, string]> = [
    [new LineTooLongError(10), 'COMM_LINE_TOO_LONG', 'LineTooLongError'],
    [new InvalidUtf8Error(), 'COMM_INVALID_UTF8', 'InvalidUtf8Error'],
    [new LineHasBreakError(), 'COMM_LINE_HAS_BREAK', 'LineHasBreakError'],
    [new InvalidOptionError('maxLineLength must be >= 1, got 0'), 'COMM_INVALID_OPTION', 'InvalidOptionError'],
  ];

  for (const [error, code, name] of cases) {
    it(`${name} is a CommError and an Error with code ${code}`, () => {
      expect(error).toBeInstanceOf(CommError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.name).toBe(name);
      expect(error.message).toMatch(/^[a-z]/);
      expect(String(error)).toContain(name);
    });
  }

  it('LineTooLongError names the limit', () => {
    const error = new LineTooLongError(65_536);
    expect(error.maxLineLength).toBe(65_536);
    expect(error.message).toContain('65536');
  });

  it('CommError carries a code and a cause', () => {
    const cause = new Error('underlying');
    const error = new CommError('wrapped', 'COMM_SOMETHING', { cause });
    expect(error).toMatchObject({ code: 'COMM_SOMETHING', name: 'CommError', message: 'wrapped', cause });
    expect(new CommError('plain').code).toBe('COMM_ERROR');
  });

  it('isLineError recognises line errors by code, also from another copy of the package', () => {
    expect(isLineError(new LineTooLongError(1))).toBe(true);
    expect(isLineError(new InvalidUtf8Error())).toBe(true);
    const fromAnotherCopy = Object.assign(new Error('line too long'), { code: 'COMM_LINE_TOO_LONG' });
    expect(isLineError(fromAnotherCopy)).toBe(true);
    expect(isLineError(new LineHasBreakError())).toBe(false);
    expect(isLineError('COMM_LINE_TOO_LONG')).toBe(false);
    expect(isLineError({ code: 'COMM_INVALID_UTF8' })).toBe(false);
    expect(isLineError(undefined)).toBe(false);
  });
});
