import { Buffer } from 'node:buffer';
import { CommError, ERROR_CODES, InvalidOptionError } from '@comm/protocol';
import { describe, expect, it } from 'vitest';
import { ProxyHeaderError, ProxyHeaderTimeoutError } from './errors.js';
import { DEFAULT_PROXY_V2_MAX_LENGTH, ProxyHeaderParser, type ProxyHeaderParserOptions } from './parse.js';
import { encodeV2, ipBlock, ipv4Bytes, parseError, parseWhole, tlv } from './proxy-test-helpers.js';

const V1 = Buffer.from('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n');
const V2 = encodeV2({
  addresses: ipBlock(ipv4Bytes('192.168.0.1'), ipv4Bytes('192.168.0.11'), 56324, 443),
  tlvs: [tlv(0x01, 'h2')],
});

describe('ProxyHeaderParser: modes', () => {
  it("'any' (the default) reads both versions, to the same endpoints", () => {
    const one = parseWhole(V1).header;
    const two = parseWhole(V2).header;
    expect([one.version, two.version]).toEqual([1, 2]);
    expect(two.source).toEqual(one.source);
    expect(two.destination).toEqual(one.destination);
  });

  it("'v1' refuses a v2 header and 'v2' a v1 line, at the first byte", () => {
    expect(parseError(V2, { mode: 'v1' }).reason).toBe('not-proxy-protocol');
    expect(parseError(V1, { mode: 'v2' }).reason).toBe('not-proxy-protocol');
    expect(parseError(V2.subarray(0, 1), { mode: 'v1' }).message).toContain("'PROXY '");
    expect(parseWhole(V1, { mode: 'v1' }).header.version).toBe(1);
    expect(parseWhole(V2, { mode: 'v2' }).header.version).toBe(2);
  });

  it('refuses a connection that starts with anything else, at its first byte', () => {
    for (const start of ['G', '\x16', '\n', 'p', '\x00']) {
      expect(parseError(start).reason).toBe('not-proxy-protocol');
    }
  });
});

describe('ProxyHeaderParser: feeding', () => {
  it('takes the header a byte at a time, and gives the rest from the chunk that ended it', () => {
    for (const header of [V1, V2]) {
      const parser = new ProxyHeaderParser();
      for (let i = 0; i < header.length - 1; i++) {
        expect(parser.push(header.subarray(i, i + 1))).toEqual({ state: 'need-more' });
        expect(parser.buffered).toBe(i + 1);
      }
      const result = parser.push(Buffer.concat([header.subarray(-1), Buffer.from('after')]));
      expect(result.state).toBe('done');
      expect(result.state === 'done' && result.rest.toString()).toBe('after');
      expect(parser.buffered).toBe(0);
    }
  });

  it('gives an empty rest when the chunk ends with the header, and takes empty chunks', () => {
    const parser = new ProxyHeaderParser();
    expect(parser.push(Buffer.alloc(0)).state).toBe('need-more');
    expect(parser.push(V2.subarray(0, 10)).state).toBe('need-more');
    expect(parser.push(new Uint8Array(0)).state).toBe('need-more');
    const result = parser.push(V2.subarray(10));
    expect(result.state === 'done' && result.rest.length).toBe(0);
  });

  it('takes plain Uint8Arrays, and its rest is a view of the chunk, not a copy', () => {
    const bytes = new Uint8Array([...V1, 0x41, 0x42]);
    const view = bytes.subarray(0);
    const result = new ProxyHeaderParser().push(view);
    expect(result.state).toBe('done');
    if (result.state !== 'done') return;
    expect(Buffer.isBuffer(result.rest)).toBe(true);
    expect(result.rest.toString()).toBe('AB');
    bytes[bytes.length - 1] = 0x43;
    expect(result.rest.toString()).toBe('AC');
  });

  it('after done, refuses more bytes (they are the caller’s) and keeps its outcome', () => {
    const parser = new ProxyHeaderParser();
    const done = parser.push(V1);
    const again = parser.push(Buffer.from('more'));
    expect(again.state === 'error' && again.error.reason).toBe('finished');
    expect(parser.end()).toBe(done);
  });

  it('after an error, returns that error for every push and at the end', () => {
    const parser = new ProxyHeaderParser();
    const failed = parser.push(Buffer.from('PROXI'));
    expect(failed.state === 'error' && failed.error.reason).toBe('not-proxy-protocol');
    expect(parser.push(Buffer.from('whatever'))).toBe(failed);
    expect(parser.end()).toBe(failed);
  });

  it('says truncated when the stream ends mid-header, or before any byte', () => {
    for (const partial of [V1.subarray(0, 20), V2.subarray(0, 5), V2.subarray(0, 16), V2.subarray(0, V2.length - 1)]) {
      const parser = new ProxyHeaderParser();
      expect(parser.push(partial).state).toBe('need-more');
      const end = parser.end();
      expect(end.state === 'error' && end.error.reason).toBe('truncated');
      expect(end.state === 'error' && end.error.message).toContain(`${partial.length} bytes`);
    }
    const nothing = new ProxyHeaderParser().end();
    expect(nothing.state === 'error' && nothing.error.reason).toBe('truncated');
  });

  it('holds at most 107 bytes for v1 and 16 + maxV2Length for v2', () => {
    const v1 = new ProxyHeaderParser();
    v1.push(Buffer.from(`PROXY UNKNOWN ${'x'.repeat(91)}`));
    expect(v1.buffered).toBe(105);
    const v2 = new ProxyHeaderParser({ maxV2Length: 300 });
    const big = encodeV2({ addresses: Buffer.alloc(12), tlvs: [tlv(0x04, Buffer.alloc(300 - 15))] });
    v2.push(big.subarray(0, big.length - 1));
    expect(v2.buffered).toBe(16 + 299);
  });
});

describe('ProxyHeaderParser: options', () => {
  it('defaults to mode any and a v2 length of at most 4096', () => {
    const parser = new ProxyHeaderParser();
    expect(parser.mode).toBe('any');
    expect(parser.maxV2Length).toBe(DEFAULT_PROXY_V2_MAX_LENGTH);
    expect(DEFAULT_PROXY_V2_MAX_LENGTH).toBe(4096);
  });

  it.each<ProxyHeaderParserOptions>([
    { mode: 'v3' as 'v1' },
    { maxV2Length: -1 },
    { maxV2Length: 65536 },
    { maxV2Length: 1.5 },
    { maxV2Length: Number.NaN },
  ])('throws InvalidOptionError for %o', (options) => {
    expect(() => new ProxyHeaderParser(options)).toThrow(InvalidOptionError);
  });

  it('accepts maxV2Length 0: LOCAL with no block only', () => {
    expect(parseWhole(encodeV2({ versionCommand: 0x20, family: 0 }), { maxV2Length: 0 }).header.command).toBe('LOCAL');
    expect(parseError(V2, { maxV2Length: 0 }).reason).toBe('v2-too-long');
  });
});

describe('the PROXY errors', () => {
  it('ProxyHeaderError is a CommError with its code, reason and name', () => {
    const error = parseError('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n');
    expect(error).toBeInstanceOf(ProxyHeaderError);
    expect(error).toBeInstanceOf(CommError);
    expect(error).toMatchObject({ name: 'ProxyHeaderError', code: 'COMM_PROXY_HEADER_INVALID', reason: 'v1-bad-line-end' });
    expect(error.message).toBe('invalid PROXY header: the v1 line ends in LF without CR');
  });

  it('ProxyHeaderTimeoutError carries its deadline, for the caller that keeps the clock', () => {
    const error = new ProxyHeaderTimeoutError(3000);
    expect(error).toBeInstanceOf(CommError);
    expect(error).toMatchObject({ name: 'ProxyHeaderTimeoutError', code: 'COMM_PROXY_HEADER_TIMEOUT', headerTimeout: 3000 });
    expect(error.message).toBe('PROXY header not received within 3000 ms');
  });

  it('both codes are in the registry', () => {
    expect(ERROR_CODES.COMM_PROXY_HEADER_INVALID).toBeTypeOf('string');
    expect(ERROR_CODES.COMM_PROXY_HEADER_TIMEOUT).toBe('a PROXY protocol header did not arrive whole in time');
  });
});
