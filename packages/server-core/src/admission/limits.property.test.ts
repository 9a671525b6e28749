// AdmissionControl against a model: for any sequence of admits and releases (releases repeated
// at random), its answers and counts are the model's, and no count goes negative or stays at zero.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCidrList } from './cidr.js';
import { type Admitted, AdmissionControl, type RefusalReason } from './limits.js';

/** 200 runs per property locally; CI sets COMM_FC_RUNS=10000. */
const numRuns = Number(process.env.COMM_FC_RUNS ?? 200);

/** Addresses as sockets give them, and one address twice: plain and IPv4-mapped. */
const POOL = ['10.0.0.1', '::ffff:10.0.0.1', '10.0.0.2', '::1', '2001:db8::7', '192.0.2.5'] as const;
/** The addresses of the pool, each once. */
const HOSTS: readonly string[] = ['10.0.0.1', '10.0.0.2', '::1', '2001:db8::7', '192.0.2.5'];

const hostOf = (address: string): string => (address.startsWith('::ffff:') ? address.slice(7) : address);

type Operation = { readonly kind: 'admit'; readonly address: string } | { readonly kind: 'release'; readonly pick: number };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('admit' as const), address: fc.constantFrom(...POOL) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
);

const limit = fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined });
const hosts = fc.subarray([...HOSTS], { minLength: 1 });
const rules = fc.record({
  allow: fc.option(hosts, { nil: undefined }),
  deny: fc.option(hosts, { nil: undefined }),
  maxConnections: limit,
  maxConnectionsPerAddress: limit,
});

const COUNTER = {
  denied: 'denied',
  'not-allowed': 'notAllowed',
  'max-connections': 'maxConnections',
  'max-connections-per-address': 'maxConnectionsPerAddress',
} as const;

describe('AdmissionControl follows its model', () => {
  it('(c) answers and counts as the model for any admits and releases', () => {
    fc.assert(
      fc.property(rules, fc.array(operation, { maxLength: 60 }), (given, operations) => {
        const admission = new AdmissionControl({
          allow: given.allow && parseCidrList(given.allow, 'allow'),
          deny: given.deny && parseCidrList(given.deny, 'deny'),
          maxConnections: given.maxConnections,
          maxConnectionsPerAddress: given.maxConnectionsPerAddress,
        });
        // the model
        const perHost = new Map<string, number>();
        const refused = { denied: 0, notAllowed: 0, maxConnections: 0, maxConnectionsPerAddress: 0 };
        const handles: { answer: Admitted; host: string; released: boolean }[] = [];
        let open = 0;

        const expected = (address: string): RefusalReason | undefined => {
          const host = hostOf(address);
          if (given.deny?.includes(host)) return 'denied';
          if (given.allow && !given.allow.includes(host)) return 'not-allowed';
          if (open >= (given.maxConnections ?? Number.POSITIVE_INFINITY)) return 'max-connections';
          if ((perHost.get(host) ?? 0) >= (given.maxConnectionsPerAddress ?? Number.POSITIVE_INFINITY)) {
            return 'max-connections-per-address';
          }
          return undefined;
        };

        for (const step of operations) {
          if (step.kind === 'admit') {
            const reason = expected(step.address);
            const answer = admission.admit(step.address);
            if (reason === undefined) {
              expect(answer.admit).toBe(true);
              const host = hostOf(step.address);
              open += 1;
              perHost.set(host, (perHost.get(host) ?? 0) + 1);
              handles.push({ answer: answer as Admitted, host, released: false });
            } else {
              expect(answer).toEqual({ admit: false, reason });
              refused[COUNTER[reason]] += 1;
            }
          } else if (handles.length > 0) {
            const handle = handles[step.pick % handles.length] as (typeof handles)[number];
            handle.answer.release();
            if (!handle.released) {
              handle.released = true;
              open -= 1;
              const left = (perHost.get(handle.host) ?? 0) - 1;
              if (left === 0) perHost.delete(handle.host);
              else perHost.set(handle.host, left);
            }
          }
          expect(admission.counts()).toEqual({ open, addresses: perHost.size, refused });
          expect(admission.open).toBeGreaterThanOrEqual(0);
          for (const address of POOL) {
            const count = admission.openFrom(address);
            expect(count).toBe(perHost.get(hostOf(address)) ?? 0);
            expect(count).toBeGreaterThanOrEqual(0);
          }
        }
        // once every connection has closed, nothing is left
        for (const handle of handles) handle.answer.release();
        expect(admission.counts()).toMatchObject({ open: 0, addresses: 0 });
      }),
      { numRuns },
    );
  });
});
