import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { resolveTarget } from './address.js';

describe('resolveTarget', () => {
  it('R1: the port defaults to 2000', () => {
    expect(resolveTarget({ host: '127.0.0.1' })).toEqual({ host: '127.0.0.1', port: 2000, family: 0, display: '127.0.0.1:2000' });
  });

  it('takes an IPv6 address with or without brackets, and shows it in brackets', () => {
    expect(resolveTarget({ host: '[::1]', port: 7 })).toMatchObject({ host: '::1', display: '[::1]:7' });
    expect(resolveTarget({ host: '::1', port: 7 })).toMatchObject({ host: '::1', display: '[::1]:7' });
  });

  // The loopback interface exists everywhere; a scope must name an interface that exists.
  const loopback =
    Object.keys(networkInterfaces()).find((name) => networkInterfaces()[name]?.some((entry) => entry.internal)) ?? 'lo';

  it('keeps the scope of a link-local address, also in its URL form %25', () => {
    expect(resolveTarget({ host: `fe80::1%${loopback}` })).toMatchObject({
      host: `fe80::1%${loopback}`,
      display: `[fe80::1%${loopback}]:2000`,
    });
    expect(resolveTarget({ host: `[fe80::1%25${loopback}]` })).toMatchObject({ host: `fe80::1%${loopback}` });
  });

  it('adds scopeId to the address, as the 4-tuple (host, port, flowinfo, scope_id) does', () => {
    expect(resolveTarget({ host: 'fe80::1', scopeId: loopback }).host).toBe(`fe80::1%${loopback}`);
    expect(resolveTarget({ host: `fe80::1%${loopback}`, scopeId: loopback }).host).toBe(`fe80::1%${loopback}`);
    // Python's default scope_id is 0: no scope.
    expect(resolveTarget({ host: '::1', scopeId: 0 }).host).toBe('::1');
  });

  it('refuses a link-local address without a scope, and a scope no interface has, before connecting', () => {
    expect(() => resolveTarget({ host: 'fe80::1' })).toThrow(
      expect.objectContaining({
        code: 'COMM_INVALID_OPTION',
        message: 'fe80::1 is a link-local address: give its interface, e.g. fe80::1%eth0, or scopeId',
      }),
    );
    expect(() => resolveTarget({ host: 'FEBF::1' })).toThrow(/link-local/);
    expect(() => resolveTarget({ host: 'fe80::1%no-such-if0' })).toThrow(/no network interface named 'no-such-if0' for fe80::1/);
    expect(resolveTarget({ host: 'fec0::1' }).host).toBe('fec0::1');
  });

  it.runIf(process.platform === 'linux')('turns an interface index into its name, since Node reads the scope as a name', () => {
    const loopbackIndex = Number(readFileSync('/sys/class/net/lo/ifindex', 'utf8'));
    expect(resolveTarget({ host: 'fe80::1', scopeId: loopbackIndex, flowinfo: 0 }).host).toBe('fe80::1%lo');
    expect(resolveTarget({ host: `fe80::1%${loopbackIndex}` }).host).toBe('fe80::1%lo');
    expect(() => resolveTarget({ host: 'fe80::1', scopeId: 999_999 })).toThrow(/no network interface has index 999999/);
  });

  it('refuses a scope that contradicts the address or has no IPv6 address to go with', () => {
    expect(() => resolveTarget({ host: `fe80::1%${loopback}`, scopeId: 'eth1' })).toThrow(
      expect.objectContaining({ code: 'COMM_INVALID_OPTION' }),
    );
    expect(() => resolveTarget({ host: 'localhost', scopeId: 'eth0' })).toThrow(/scopeId needs an IPv6 address/);
    expect(() => resolveTarget({ host: 'fe80::1', scopeId: -1 })).toThrow(/scopeId/);
    expect(() => resolveTarget({ host: 'fe80::1', scopeId: 'a b' })).toThrow(/scopeId/);
  });

  it('refuses a non-zero flowinfo with COMM_FLOWINFO_UNSUPPORTED, since Node cannot set it', () => {
    expect(() => resolveTarget({ host: '::1', flowinfo: 5 })).toThrow(
      expect.objectContaining({
        code: 'COMM_FLOWINFO_UNSUPPORTED',
        message: expect.stringMatching(/cannot set the IPv6 flow label/),
      }),
    );
    expect(() => resolveTarget({ host: '::1', flowinfo: 2 ** 20 })).toThrow(
      expect.objectContaining({ code: 'COMM_INVALID_OPTION' }),
    );
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
