import { describe, expect, it } from 'vitest';
import {
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_LINE_TIMEOUT,
  DEFAULT_MAX_PENDING_REPLY_BYTES,
  conversationConfig,
  normalizeAddress,
} from './index.js';
import { DEFAULT_MAX_LINE_LENGTH, errorReply, formatEndpoint } from '@comm/protocol';
import { HandlerFailedError, LineTimeoutError } from './errors.js';

describe('conversationConfig', () => {
  it('fills in the defaults of the spec (R7, R13, R14, R15)', () => {
    const config = conversationConfig();
    expect(config.maxLineLength).toBe(DEFAULT_MAX_LINE_LENGTH);
    expect(config.invalidUtf8).toBe('error');
    expect(config.lineTimeout).toBe(DEFAULT_LINE_TIMEOUT);
    expect(config.idleTimeout).toBe(DEFAULT_IDLE_TIMEOUT);
    expect(config.maxPendingReplyBytes).toBe(DEFAULT_MAX_PENDING_REPLY_BYTES);
    expect(config.handler).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('returns a config it made unchanged, so many connections share one object', () => {
    const config = conversationConfig({ lineTimeout: 0 });
    expect(conversationConfig(config)).toBe(config);
  });

  it.each([
    [{ maxLineLength: 0 }],
    [{ maxLineLength: 1.5 }],
    [{ lineTimeout: -1 }],
    [{ idleTimeout: Number.NaN }],
    [{ maxPendingReplyBytes: 0 }],
    [{ lingerTimeout: 0.5 }],
    [{ invalidUtf8: 'ignore' as 'error' }],
    [{ handler: 'echo' as unknown as () => string }],
    [{ handler: (line: string) => line, answerBatch: (lines: string[]) => lines }],
  ])('rejects %o with COMM_INVALID_OPTION', (options) => {
    expect(() => conversationConfig(options)).toThrow(expect.objectContaining({ code: 'COMM_INVALID_OPTION' }));
  });

  it('sweeps often enough for its shortest deadline, but not more often than every 10 ms', () => {
    expect(conversationConfig({ lineTimeout: 300 }).sweepInterval).toBe(30);
    expect(conversationConfig({ lineTimeout: 20 }).sweepInterval).toBe(10);
    expect(conversationConfig({ lineTimeout: 0, idleTimeout: 0, lingerTimeout: 0 }).sweepInterval).toBe(1000);
  });
});

describe('normalizeAddress', () => {
  it('R1: shows an IPv4-mapped address without ::ffff:', () => {
    expect(normalizeAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeAddress('::ffff:10.1.2.3')).toBe('10.1.2.3');
  });

  it('leaves IPv6 and IPv4 addresses as they are', () => {
    expect(normalizeAddress('::1')).toBe('::1');
    expect(normalizeAddress('::ffff:abcd')).toBe('::ffff:abcd');
    expect(normalizeAddress('fe80::1%eth0')).toBe('fe80::1%eth0');
    expect(normalizeAddress('192.168.0.1')).toBe('192.168.0.1');
    expect(normalizeAddress(undefined)).toBe('');
  });
});

describe('error replies', () => {
  it('R12: an error reply is ERR <CODE> <message> on one line', () => {
    expect(errorReply(new LineTimeoutError(500))).toBe('ERR COMM_LINE_TIMEOUT line not finished within 500 ms');
    expect(errorReply(new HandlerFailedError('bad\r\nthing'))).toBe('ERR COMM_HANDLER_FAILED bad thing');
  });

  it('server errors are CommErrors with a name and a stable code', () => {
    const error = new HandlerFailedError(undefined, { cause: new Error('inner') });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('HandlerFailedError');
    expect(error.code).toBe('COMM_HANDLER_FAILED');
    expect((error.cause as Error).message).toBe('inner');
  });

  it('formats endpoints with brackets around IPv6 addresses', () => {
    expect(formatEndpoint('127.0.0.1', 2000)).toBe('127.0.0.1:2000');
    expect(formatEndpoint('::1', 2000)).toBe('[::1]:2000');
  });
});
