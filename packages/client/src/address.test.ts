import { describe, expect, it } from 'vitest';
import { formatAddress, resolveTarget } from './address.js';

describe('resolveTarget', () => {
  it('R1: the port defaults to 2000', () => {
    expect(resolveTarget({ host: '127.0.0.1' })).toEqual({ host: '127.0.0.1', port: 2000, family: 0, display: '127.0.0.1:2000' });
  });

  it('takes an IPv6 address with or without brackets, and shows it in brackets', () => {
    expect(resolveTarget({ host: '[::1]', port: 7 })).toMatchObject({ host: '::1', display: '[::1]:7' });
    expect(resolveTarget({ host: '::1', port: 7 })).toMatchObject({ host: '::1', display: '[::1]:7' });
  });

  it('keeps the scope of a link-local address, also in its URL form %25', () => {
    expect(resolveTarget({ host: 'fe80::1%eth0' })).toMatchObject({ host: 'fe80::1%eth0', display: '[fe80::1%eth0]:2000' });
    expect(resolveTarget({ host: '[fe80::1%25eth0]' })).toMatchObject({ host: 'fe80::1%eth0' });
  });

  it('adds scopeId to the address, as the 4-tuple (host, port, flowinfo, scope_id) does', () => {
    expect(resolveTarget({ host: 'fe80::1', scopeId: 'eth0' }).host).toBe('fe80::1%eth0');
    expect(resolveTarget({ host: 'fe80::1', scopeId: 3, flowinfo: 0 }).host).toBe('fe80::1%3');
    expect(resolveTarget({ host: 'fe80::1%eth0', scopeId: 'eth0' }).host).toBe('fe80::1%eth0');
    // Python's default scope_id is 0: no scope.
    expect(resolveTarget({ host: '::1', scopeId: 0 }).host).toBe('::1');
  });

  it('refuses a scope that contradicts the address or has no IPv6 address to go with', () => {
    expect(() => resolveTarget({ host: 'fe80::1%eth0', scopeId: 'eth1' })).toThrow(expect.objectContaining({ code: 'COMM_INVALID_OPTION' }));
    expect(() => resolveTarget({ host: 'localhost', scopeId: 'eth0' })).toThrow(/scopeId needs an IPv6 address/);
    expect(() => resolveTarget({ host: 'fe80::1', scopeId: -1 })).toThrow(/scopeId/);
    expect(() => resolveTarget({ host: 'fe80::1', scopeId: 'a b' })).toThrow(/scopeId/);
  });

  it('refuses a non-zero flowinfo with COMM_FLOWINFO_UNSUPPORTED, since Node cannot set it', () => {
    expect(() => resolveTarget({ host: '::1', flowinfo: 5 })).toThrow(
      expect.objectContaining({ code: 'COMM_FLOWINFO_UNSUPPORTED', message: expect.stringMatching(/cannot set the IPv6 flow label/) }),
    );
    expect(() => resolveTarget({ host: '::1', flowinfo: 2 ** 20 })).toThrow(expect.objectContaining({ code: 'COMM_INVALID_OPTION' }));
  });

  it('forces a family, and refuses an address literal of the other one', () => {
    expect(resolveTarget({ host: 'localhost', family: 6 }).family).toBe(6);
    expect(() => resolveTarget({ host: '::1', family: 4 })).toThrow(/family 4 was asked but ::1 is an IPv6 address/);
    expect(() => resolveTarget({ host: '127.0.0.1', family: 6 })).toThrow(/IPv4 address/);
    expect(() => resolveTarget({ host: 'x', family: 5 as 4 })).toThrow(/family must be/);
  });

  it('refuses malformed hosts and ports', () => {
    for (const host of ['', '[127.0.0.1]', '[example.com]', 'a b', 'x/y']) {
      expect(() => resolveTarget({ host }), host).toThrow(expect.objectContaining({ code: 'COMM_INVALID_OPTION' }));
    }
    for (const port of [0, 65536, 1.5, Number.NaN]) {
      expect(() => resolveTarget({ host: 'x', port }), String(port)).toThrow(/port must be/);
    }
  });
});

describe('formatAddress', () => {
  it('brackets IPv6 only', () => {
    expect(formatAddress('::1', 1)).toBe('[::1]:1');
    expect(formatAddress('fe80::1%eth0', 1)).toBe('[fe80::1%eth0]:1');
    expect(formatAddress('10.0.0.1', 1)).toBe('10.0.0.1:1');
    expect(formatAddress('example.com', 1)).toBe('example.com:1');
  });
});
