import { InvalidOptionError } from '@comm/protocol';
import { describe, expect, it } from 'vitest';
import { parseCidrList } from './cidr.js';
import { type Admission, AdmissionControl, type Admitted } from './limits.js';

function admitted(answer: Admission): Admitted {
  if (!answer.admit) throw new Error(`refused: ${answer.reason}`);
  return answer;
}

const NONE_REFUSED = { denied: 0, notAllowed: 0, maxConnections: 0, maxConnectionsPerAddress: 0 };

describe('AdmissionControl', () => {
  it('admits everyone and counts them when it has no rules', () => {
    const admission = new AdmissionControl();
    for (const address of ['10.0.0.1', '10.0.0.1', '::1', '']) expect(admission.admit(address).admit).toBe(true);
    expect(admission.counts()).toEqual({ open: 4, addresses: 3, refused: NONE_REFUSED });
  });

  it('refuses the denied, and deny wins over allow', () => {
    const admission = new AdmissionControl({
      allow: parseCidrList('10.0.0.0/8', 'allow'),
      deny: parseCidrList('10.0.0.7,10.9.0.0/16', 'deny'),
    });
    expect(admission.admit('10.0.0.7')).toEqual({ admit: false, reason: 'denied' });
    expect(admission.admit('::ffff:10.9.1.1')).toEqual({ admit: false, reason: 'denied' });
    expect(admission.admit('10.0.0.8').admit).toBe(true);
    expect(admission.counts().refused).toEqual({ ...NONE_REFUSED, denied: 2 });
  });

  it('refuses whom allow does not name', () => {
    const admission = new AdmissionControl({ allow: parseCidrList(['127.0.0.0/8', '::1'], 'allow') });
    expect(admission.admit('::1').admit).toBe(true);
    expect(admission.admit('::ffff:127.0.0.1').admit).toBe(true);
    expect(admission.admit('192.0.2.1')).toEqual({ admit: false, reason: 'not-allowed' });
    expect(admission.admit('2001:db8::1')).toEqual({ admit: false, reason: 'not-allowed' });
    expect(admission.admit('')).toEqual({ admit: false, reason: 'not-allowed' });
    expect(admission.counts().refused).toEqual({ ...NONE_REFUSED, notAllowed: 3 });
  });

  it('denies without an allow list: everyone else comes in', () => {
    const admission = new AdmissionControl({ deny: parseCidrList('192.0.2.0/24', 'deny') });
    expect(admission.admit('192.0.2.1').admit).toBe(false);
    expect(admission.admit('198.51.100.1').admit).toBe(true);
  });

  it('holds the whole server to maxConnections, and lets in again after a release', () => {
    const admission = new AdmissionControl({ maxConnections: 2 });
    const first = admitted(admission.admit('10.0.0.1'));
    admitted(admission.admit('10.0.0.2'));
    expect(admission.admit('10.0.0.3')).toEqual({ admit: false, reason: 'max-connections' });
    first.release();
    expect(admission.admit('10.0.0.3').admit).toBe(true);
    expect(admission.counts()).toEqual({ open: 2, addresses: 2, refused: { ...NONE_REFUSED, maxConnections: 1 } });
  });

  it('holds each address to maxConnectionsPerAddress, a mapped address being its IPv4 one', () => {
    const admission = new AdmissionControl({ maxConnectionsPerAddress: 2 });
    admitted(admission.admit('10.0.0.1'));
    const second = admitted(admission.admit('::ffff:10.0.0.1'));
    expect(admission.admit('10.0.0.1')).toEqual({ admit: false, reason: 'max-connections-per-address' });
    expect(admission.admit('::ffff:10.0.0.1')).toEqual({ admit: false, reason: 'max-connections-per-address' });
    expect(admission.admit('10.0.0.2').admit).toBe(true);
    expect(admission.openFrom('10.0.0.1')).toBe(2);
    expect(admission.openFrom('::ffff:10.0.0.1')).toBe(2);
    second.release();
    expect(admission.admit('10.0.0.1').admit).toBe(true);
    expect(admission.counts().refused).toEqual({ ...NONE_REFUSED, maxConnectionsPerAddress: 2 });
  });

  it('checks deny, allow, the server limit, then the address limit', () => {
    const admission = new AdmissionControl({
      allow: parseCidrList('10.0.0.0/8', 'allow'),
      deny: parseCidrList('10.0.0.9', 'deny'),
      maxConnections: 1,
      maxConnectionsPerAddress: 1,
    });
    admitted(admission.admit('10.0.0.1'));
    expect(admission.admit('10.0.0.9')).toEqual({ admit: false, reason: 'denied' });
    expect(admission.admit('192.0.2.1')).toEqual({ admit: false, reason: 'not-allowed' });
    expect(admission.admit('10.0.0.1')).toEqual({ admit: false, reason: 'max-connections' });
  });

  it('counts a release once: a second call does nothing', () => {
    const admission = new AdmissionControl({ maxConnections: 1 });
    const first = admitted(admission.admit('::1'));
    first.release();
    const second = admitted(admission.admit('::1'));
    first.release();
    first.release();
    expect(admission.counts()).toEqual({ open: 1, addresses: 1, refused: NONE_REFUSED });
    expect(admission.openFrom('::1')).toBe(1);
    expect(admission.admit('::1')).toEqual({ admit: false, reason: 'max-connections' });
    second.release();
    second.release();
    expect(admission.counts()).toEqual({ open: 0, addresses: 0, refused: { ...NONE_REFUSED, maxConnections: 1 } });
  });

  it("drops an address's entry when its last connection is released", () => {
    const admission = new AdmissionControl();
    const releases = Array.from({ length: 1000 }, (_, index) => admitted(admission.admit(`2001:db8::${index.toString(16)}`)));
    const twice = admitted(admission.admit('2001:db8::0'));
    expect(admission.counts()).toMatchObject({ open: 1001, addresses: 1000 });
    for (const answer of releases) answer.release();
    expect(admission.counts()).toMatchObject({ open: 1, addresses: 1 });
    expect(admission.openFrom('2001:db8::1')).toBe(0);
    twice.release();
    expect(admission.counts()).toMatchObject({ open: 0, addresses: 0 });
    expect(admission.openFrom('2001:db8::0')).toBe(0);
  });

  it('works with release detached from its answer, as a close listener', () => {
    const admission = new AdmissionControl();
    const { release } = admitted(admission.admit('::1'));
    release();
    expect(admission.open).toBe(0);
  });

  it('gives counts that later changes do not touch', () => {
    const admission = new AdmissionControl({ maxConnections: 1 });
    admission.admit('::1');
    const before = admission.counts();
    admission.admit('::1');
    expect(before).toEqual({ open: 1, addresses: 1, refused: NONE_REFUSED });
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '3'])('refuses the limit %s', (limit) => {
    expect(() => new AdmissionControl({ maxConnections: limit as number })).toThrow(InvalidOptionError);
    expect(() => new AdmissionControl({ maxConnectionsPerAddress: limit as number })).toThrow(
      `maxConnectionsPerAddress must be a whole number >= 1, got ${String(limit)}`,
    );
  });
});
