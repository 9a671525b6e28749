import { describe, expect, it } from 'vitest';
import { ERROR_CODES, InvalidUtf8Error, LineTooLongError } from './errors.js';
import { errorReply, formatEndpoint, parseErrorReply } from './reply.js';

describe('error replies (R12)', () => {
  it('R12: an error reply is ERR <CODE> <message> on one line', () => {
    expect(errorReply(new LineTooLongError(10))).toBe('ERR COMM_LINE_TOO_LONG line too long: more than 10 bytes');
    expect(errorReply({ code: 'COMM_HANDLER_FAILED', message: 'bad\r\nthing' })).toBe('ERR COMM_HANDLER_FAILED bad thing');
  });

  it('R12: parseErrorReply takes back apart what errorReply wrote', () => {
    for (const error of [new LineTooLongError(10), new InvalidUtf8Error()]) {
      expect(parseErrorReply(errorReply(error))).toEqual({ code: error.code, message: error.message });
    }
    expect(parseErrorReply('ERR COMM_SERVER_BUSY')).toEqual({ code: 'COMM_SERVER_BUSY', message: '' });
  });

  it('R12: a line that only looks like an error reply is a reply like any other', () => {
    expect(parseErrorReply('hello')).toBeUndefined();
    expect(parseErrorReply('ERR')).toBeUndefined();
    expect(parseErrorReply('ERR something went wrong')).toBeUndefined();
    expect(parseErrorReply('ERR comm_lower case')).toBeUndefined();
    expect(parseErrorReply(' ERR COMM_X y')).toBeUndefined();
  });

  it('formats endpoints with brackets around IPv6 addresses', () => {
    expect(formatEndpoint('127.0.0.1', 2000)).toBe('127.0.0.1:2000');
    expect(formatEndpoint('::1', 2000)).toBe('[::1]:2000');
  });
});

describe('the code registry', () => {
  it('every code is COMM_ and upper case, with a meaning', () => {
    for (const [code, meaning] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^COMM_[A-Z0-9_]+$/);
      expect(meaning.length).toBeGreaterThan(10);
    }
  });
});
