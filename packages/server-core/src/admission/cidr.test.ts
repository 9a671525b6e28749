import { InvalidOptionError } from '@comm/protocol';
import { describe, expect, it } from 'vitest';
import { parseCidrList } from './cidr.js';

describe('parseCidrList', () => {
  it('matches IPv4 CIDRs, boundaries included', () => {
    const list = parseCidrList('10.0.0.0/8,192.168.1.0/24', 'allow');
    expect(list.matches('10.0.0.0')).toBe(true);
    expect(list.matches('10.255.255.255')).toBe(true);
    expect(list.matches('11.0.0.0')).toBe(false);
    expect(list.matches('9.255.255.255')).toBe(false);
    expect(list.matches('192.168.1.200')).toBe(true);
    expect(list.matches('192.168.2.1')).toBe(false);
  });

  it('matches IPv6 CIDRs in any notation', () => {
    const list = parseCidrList('2001:db8::/32', 'allow');
    expect(list.matches('2001:db8::1')).toBe(true);
    expect(list.matches('2001:DB8:ffff:0:0:0:0:1')).toBe(true);
    expect(list.matches('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe(true);
    expect(list.matches('2001:db9::1')).toBe(false);
    expect(list.matches('::1')).toBe(false);
  });

  it('takes a bare address as /32 or /128', () => {
    const list = parseCidrList('192.168.1.7,::1', 'allow');
    expect(list.matches('192.168.1.7')).toBe(true);
    expect(list.matches('192.168.1.6')).toBe(false);
    expect(list.matches('::1')).toBe(true);
    expect(list.matches('0:0:0:0:0:0:0:1')).toBe(true);
    expect(list.matches('::2')).toBe(false);
  });

  it('matches the IPv4-mapped forms of IPv4 addresses, and IPv4 addresses against mapped entries', () => {
    const list = parseCidrList('10.0.0.0/8', 'allow');
    expect(list.matches('::ffff:10.1.2.3')).toBe(true);
    expect(list.matches('::ffff:a01:203')).toBe(true);
    expect(list.matches('::FFFF:10.1.2.3')).toBe(true);
    expect(list.matches('::ffff:11.1.2.3')).toBe(false);
    // IPv4-compatible (::a.b.c.d) is not the same address
    expect(list.matches('::10.1.2.3')).toBe(false);
    const mapped = parseCidrList('::ffff:10.0.0.0/104', 'allow');
    expect(mapped.matches('10.1.2.3')).toBe(true);
    expect(mapped.matches('11.1.2.3')).toBe(false);
  });

  it('treats /0 as the whole family, and IPv4 as part of the IPv6 space', () => {
    const v4 = parseCidrList('0.0.0.0/0', 'deny');
    expect(v4.matches('203.0.113.9')).toBe(true);
    expect(v4.matches('::ffff:203.0.113.9')).toBe(true);
    expect(v4.matches('::1')).toBe(false);
    const v6 = parseCidrList('::/0', 'deny');
    expect(v6.matches('2001:db8::1')).toBe(true);
    expect(v6.matches('203.0.113.9')).toBe(true);
    const notMapped = parseCidrList('2000::/3', 'deny');
    expect(notMapped.matches('203.0.113.9')).toBe(false);
  });

  it('ignores host bits after the prefix', () => {
    const list = parseCidrList('10.1.2.3/8,2001:db8::1/32', 'allow');
    expect(list.matches('10.200.0.1')).toBe(true);
    expect(list.matches('2001:db8:1::')).toBe(true);
  });

  it('matches a link-local address with its zone index', () => {
    expect(parseCidrList('fe80::/10', 'allow').matches('fe80::1%eth0')).toBe(true);
  });

  it('matches nothing that is not an IP address', () => {
    const list = parseCidrList('0.0.0.0/0,::/0', 'allow');
    for (const address of ['', 'localhost', '10.0.0', '10.0.0.0/8', ' 10.0.0.1']) expect(list.matches(address)).toBe(false);
  });

  it('reads the command-line text and the library array alike, keeping the entries', () => {
    const text = parseCidrList(' 10.0.0.0/8 , ::1/128,192.168.1.7', 'allow');
    const array = parseCidrList(['10.0.0.0/8', '::1/128', ' 192.168.1.7 '], 'allow');
    expect(text.entries).toEqual(['10.0.0.0/8', '::1/128', '192.168.1.7']);
    expect(array.entries).toEqual(text.entries);
    for (const address of ['10.9.9.9', '::1', '192.168.1.7', '192.168.1.8', '::2']) {
      expect(array.matches(address)).toBe(text.matches(address));
    }
    expect(Object.isFrozen(text.entries)).toBe(true);
  });

  it.each([
    ['10.0.0.300', '"10.0.0.300" is not an IPv4 or IPv6 address or CIDR'],
    ['010.0.0.1', '"010.0.0.1" is not an IPv4 or IPv6 address or CIDR'],
    ['example.com', '"example.com" is not an IPv4 or IPv6 address or CIDR'],
    ['10.0.0.0 /8', '"10.0.0.0 /8" is not an IPv4 or IPv6 address or CIDR'],
    ['fe80::1%eth0', '"fe80::1%eth0" is not an IPv4 or IPv6 address or CIDR'],
    ['10.0.0.0/33', '"10.0.0.0/33" has a bad prefix length: IPv4 takes /0 to /32'],
    ['::1/129', '"::1/129" has a bad prefix length: IPv6 takes /0 to /128'],
    ['10.0.0.0/', '"10.0.0.0/" has a bad prefix length'],
    ['10.0.0.0/-1', '"10.0.0.0/-1" has a bad prefix length'],
    ['10.0.0.0/+8', '"10.0.0.0/+8" has a bad prefix length'],
    ['10.0.0.0/8/9', '"10.0.0.0/8/9" has a bad prefix length'],
    ['10.0.0.0/1e1', '"10.0.0.0/1e1" has a bad prefix length'],
  ])('refuses the entry %s, naming it', (entry, message) => {
    const attempt = () => parseCidrList(`::1,${entry},10.0.0.1`, '--allow');
    expect(attempt).toThrow(InvalidOptionError);
    expect(attempt).toThrow(`--allow entry ${message}`);
    expect(() => parseCidrList([entry], 'allow')).toThrow(`allow entry ${message}`);
  });

  it('refuses empty lists and empty entries', () => {
    expect(() => parseCidrList('', 'deny')).toThrow('deny has an empty entry: ""');
    expect(() => parseCidrList('10.0.0.0/8,', 'deny')).toThrow('deny has an empty entry: "10.0.0.0/8,"');
    expect(() => parseCidrList('10.0.0.0/8,,::1', 'deny')).toThrow('deny has an empty entry');
    expect(() => parseCidrList([], 'deny')).toThrow('deny must name at least one address or CIDR');
    expect(() => parseCidrList(['::1', ' '], 'deny')).toThrow('deny has an empty entry: ["::1"," "]');
  });

  it('refuses what is neither text nor an array of text, with the code', () => {
    for (const value of [42, ['10.0.0.1', 7], null, { entries: [] }]) {
      expect(() => parseCidrList(value as never, 'allow')).toThrow(
        expect.objectContaining({ code: 'COMM_INVALID_OPTION', message: expect.stringContaining('allow must be') }),
      );
    }
  });
});
