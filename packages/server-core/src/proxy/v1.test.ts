import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { ProxyHeaderParser } from './parse.js';
import { parseError, parseWhole } from './proxy-test-helpers.js';

const FULL_V6 = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';

describe('PROXY v1: valid lines', () => {
  it("parses the spec's TCP4 example and leaves the HTTP request after it as the rest", () => {
    const request = 'GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n';
    const { header, rest } = parseWhole(`PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n${request}`);
    expect(header).toEqual({
      version: 1,
      command: 'PROXY',
      family: 'IPv4',
      transport: 'stream',
      source: { address: '192.168.0.1', port: 56324 },
      destination: { address: '192.168.0.11', port: 443 },
      tlvs: { raw: [] },
      byteLength: 47,
    });
    expect(rest.toString('latin1')).toBe(request);
  });

  it('parses the longest TCP4 line (56 bytes) and ports 0 and 65535', () => {
    const line = 'PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n';
    expect(line.length).toBe(56);
    expect(parseWhole(line).header.byteLength).toBe(56);
    const { header } = parseWhole('PROXY TCP4 0.0.0.0 10.0.0.1 0 65535\r\n');
    expect(header.source).toEqual({ address: '0.0.0.0', port: 0 });
    expect(header.destination).toEqual({ address: '10.0.0.1', port: 65535 });
  });

  it('parses TCP6, the longest line (104 bytes) included, giving addresses as Node writes them', () => {
    const line = `PROXY TCP6 ${FULL_V6} ${FULL_V6} 65535 65535\r\n`;
    expect(line.length).toBe(104);
    expect(parseWhole(line).header).toMatchObject({ family: 'IPv6', source: { address: FULL_V6, port: 65535 } });
    const { header } = parseWhole('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 4000 2000\r\n');
    expect(header).toMatchObject({
      version: 1,
      command: 'PROXY',
      family: 'IPv6',
      transport: 'stream',
      source: { address: '2001:db8::1', port: 4000 },
      destination: { address: '::1', port: 2000 },
    });
  });

  it('accepts an IPv4-mapped IPv6 address, as inet_ntop writes it', () => {
    const { header } = parseWhole('PROXY TCP6 ::ffff:192.168.0.1 ::ffff:10.0.0.1 1 2\r\n');
    expect(header.source?.address).toBe('::ffff:192.168.0.1');
  });

  it('takes UNKNOWN (short form) as no endpoints: the real ones are used', () => {
    const { header, rest } = parseWhole('PROXY UNKNOWN\r\nHELLO\n');
    expect(header).toEqual({
      version: 1,
      command: 'PROXY',
      family: 'unspec',
      transport: 'unspec',
      tlvs: { raw: [] },
      byteLength: 15,
    });
    expect(header.source).toBeUndefined();
    expect(rest.toString()).toBe('HELLO\n');
  });

  it('ignores whatever follows UNKNOWN up to the CRLF, up to the worst case of 107 bytes', () => {
    const worst = `PROXY UNKNOWN ${FULL_V6} ${FULL_V6} 65535 65535\r\n`;
    expect(worst.length).toBe(107);
    expect(parseWhole(worst).header).toMatchObject({ family: 'unspec', byteLength: 107 });
    expect(parseWhole('PROXY UNKNOWN not \x00 parsed\r at all\r\n').header.family).toBe('unspec');
  });

  it('reads no further than the first CRLF: a second line is rest', () => {
    const { header, rest } = parseWhole('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nPROXY TCP4 9.9.9.9 9.9.9.9 9 9\r\n');
    expect(header.source?.address).toBe('1.2.3.4');
    expect(rest.toString()).toBe('PROXY TCP4 9.9.9.9 9.9.9.9 9 9\r\n');
  });
});

describe('PROXY v1: the 107-byte bound', () => {
  it('refuses a line with no CRLF in its first 107 bytes, as soon as the 107th byte is in', () => {
    const parser = new ProxyHeaderParser();
    const long = `PROXY UNKNOWN ${'x'.repeat(200)}`;
    expect(parser.push(Buffer.from(long.slice(0, 106))).state).toBe('need-more');
    const result = parser.push(Buffer.from(long.slice(106)));
    expect(result.state === 'error' && result.error.reason).toBe('v1-too-long');
  });

  it('refuses 106 bytes then CRLF (108 in all), but not 105 then CRLF', () => {
    expect(parseError(`PROXY UNKNOWN ${'x'.repeat(92)}\r\n`).reason).toBe('v1-too-long');
    expect(parseWhole(`PROXY UNKNOWN ${'x'.repeat(91)}\r\n`).header.byteLength).toBe(107);
  });
});

describe('PROXY v1: refused lines', () => {
  const refused: [string, string, string][] = [
    ['a leading zero in an IPv4 address', 'PROXY TCP4 192.168.01.1 10.0.0.1 1 2\r\n', 'v1-bad-address'],
    ['an octet above 255', 'PROXY TCP4 192.168.0.256 10.0.0.1 1 2\r\n', 'v1-bad-address'],
    ['three octets', 'PROXY TCP4 192.168.0 10.0.0.1 1 2\r\n', 'v1-bad-address'],
    ['an IPv6 address under TCP4', 'PROXY TCP4 ::1 ::1 1 2\r\n', 'v1-bad-address'],
    ['an IPv4 address under TCP6', 'PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n', 'v1-bad-address'],
    ['an IPv6 zone', 'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', 'v1-bad-address'],
    ['two double colons', 'PROXY TCP6 1::2::3 ::1 1 2\r\n', 'v1-bad-address'],
    ['a host name', 'PROXY TCP4 localhost 10.0.0.1 1 2\r\n', 'v1-bad-address'],
    ['a leading zero in a port', 'PROXY TCP4 1.2.3.4 5.6.7.8 080 443\r\n', 'v1-bad-port'],
    ['port 00', 'PROXY TCP4 1.2.3.4 5.6.7.8 00 443\r\n', 'v1-bad-port'],
    ['port 65536', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 443\r\n', 'v1-bad-port'],
    ['a six-digit port', 'PROXY TCP4 1.2.3.4 5.6.7.8 100000 443\r\n', 'v1-bad-port'],
    ['a negative port', 'PROXY TCP4 1.2.3.4 5.6.7.8 -1 443\r\n', 'v1-bad-port'],
    ['a signed port', 'PROXY TCP4 1.2.3.4 5.6.7.8 +1 443\r\n', 'v1-bad-port'],
    ['a hexadecimal port', 'PROXY TCP4 1.2.3.4 5.6.7.8 0x50 443\r\n', 'v1-bad-port'],
    ['a port with a lone CR after it', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 443\rX\r\n', 'v1-bad-port'],
    ['LF without CR', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 443\n', 'v1-bad-line-end'],
    ['UNKNOWN ended by LF alone', 'PROXY UNKNOWN\n', 'v1-bad-line-end'],
    ['two spaces', 'PROXY TCP4 1.2.3.4  5.6.7.8 1 443\r\n', 'v1-bad-syntax'],
    ['a space before CRLF', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 443 \r\n', 'v1-bad-syntax'],
    ['a missing port', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', 'v1-bad-syntax'],
    ['no addresses', 'PROXY TCP4\r\n', 'v1-bad-syntax'],
    ['a tab for a space', 'PROXY TCP4\t1.2.3.4 5.6.7.8 1 443\r\n', 'v1-bad-protocol'],
    ['UDP4', 'PROXY UDP4 1.2.3.4 5.6.7.8 1 443\r\n', 'v1-bad-protocol'],
    ['tcp4 in lower case', 'PROXY tcp4 1.2.3.4 5.6.7.8 1 443\r\n', 'v1-bad-protocol'],
    ['UNKNOWN run into more letters', 'PROXY UNKNOWNX\r\n', 'v1-bad-protocol'],
    ['no protocol', 'PROXY \r\n', 'v1-bad-protocol'],
    ['proxy in lower case', 'proxy TCP4 1.2.3.4 5.6.7.8 1 443\r\n', 'not-proxy-protocol'],
    ['two spaces after PROXY', 'PROXY  TCP4 1.2.3.4 5.6.7.8 1 443\r\n', 'v1-bad-protocol'],
    ['PROXY alone', 'PROXY\r\n', 'not-proxy-protocol'],
    ['an HTTP request', 'GET / HTTP/1.1\r\n', 'not-proxy-protocol'],
  ];

  it.each(refused)('refuses %s', (_what, line, reason) => {
    const error = parseError(line);
    expect(error.reason).toBe(reason);
    expect(error.code).toBe('COMM_PROXY_HEADER_INVALID');
  });

  it('says no as soon as a byte of the prefix is wrong, without waiting for the line end', () => {
    const parser = new ProxyHeaderParser();
    expect(parser.push(Buffer.from('PRO')).state).toBe('need-more');
    const result = parser.push(Buffer.from('XI'));
    expect(result.state === 'error' && result.error.reason).toBe('not-proxy-protocol');
  });

  it('never echoes the offending bytes in the message', () => {
    expect(parseError('PROXY TCP4 1.2.3.4 5.6.7.8 1 \x1b[31mred\r\n').message).not.toContain('\x1b');
  });
});
