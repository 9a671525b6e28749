// Who may connect, and how many: the one question a server asks when it accepts a socket.
import { InvalidOptionError } from '@comm/protocol';
import { normalizeAddress } from '../peer.js';
import type { AddressList } from './cidr.js';

/** Why a connection was turned away. */
export type RefusalReason = 'denied' | 'not-allowed' | 'max-connections' | 'max-connections-per-address';

/** A connection let in: call `release()` once it has closed (a second call does nothing). */
export interface Admitted {
  readonly admit: true;
  release(): void;
}

/** A connection turned away, and why. */
export interface Refused {
  readonly admit: false;
  readonly reason: RefusalReason;
}

/** The answer of {@link AdmissionControl.admit}. */
export type Admission = Admitted | Refused;

/** Connections turned away since the start, by reason. */
export interface RefusalCounts {
  /** The address is in `deny`. */
  readonly denied: number;
  /** There is an `allow` list and the address is not in it. */
  readonly notAllowed: number;
  /** `maxConnections` were open. */
  readonly maxConnections: number;
  /** `maxConnectionsPerAddress` were open from the same address. */
  readonly maxConnectionsPerAddress: number;
}

/** What {@link AdmissionControl.counts} tells, for `stats()`. */
export interface AdmissionCounts {
  /** Connections admitted and not yet released. */
  readonly open: number;
  /** Addresses with at least one open connection. */
  readonly addresses: number;
  readonly refused: RefusalCounts;
}

/** The rules of an {@link AdmissionControl}, parsed; {@link createAdmissionControl} builds them from options. */
export interface AdmissionRules {
  /** Only addresses in this list may connect; absent: every address (that `deny` does not name). */
  readonly allow?: AddressList | undefined;
  /** Addresses in this list may not connect, even when `allow` names them too. */
  readonly deny?: AddressList | undefined;
  /** The most connections open at once on the whole server; absent: no limit. */
  readonly maxConnections?: number | undefined;
  /** The most connections open at once from one client address; absent: no limit. */
  readonly maxConnectionsPerAddress?: number | undefined;
}

const REFUSED: { readonly [Reason in RefusalReason]: Refused } = {
  denied: Object.freeze({ admit: false, reason: 'denied' }),
  'not-allowed': Object.freeze({ admit: false, reason: 'not-allowed' }),
  'max-connections': Object.freeze({ admit: false, reason: 'max-connections' }),
  'max-connections-per-address': Object.freeze({ admit: false, reason: 'max-connections-per-address' }),
};

const COUNTER_OF = {
  denied: 'denied',
  'not-allowed': 'notAllowed',
  'max-connections': 'maxConnections',
  'max-connections-per-address': 'maxConnectionsPerAddress',
} as const satisfies Record<RefusalReason, keyof RefusalCounts>;

/** A limit as a number to compare with: `Infinity` when there is none. */
function limitOf(name: string, value: number | undefined): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(`${name} must be a whole number >= 1, got ${String(value)}`);
  }
  return value;
}

/**
 * Decides at accept whether a connection is served, and counts the open ones, in total and per
 * client address. The checks, in order: `deny` (so deny wins over allow), `allow`,
 * `maxConnections`, `maxConnectionsPerAddress`. Each admitted connection is counted until its
 * `release()`; the count of an address is dropped when it reaches zero, so memory is bounded by
 * the open connections. Apart from the list checks, each call is O(1).
 *
 * Addresses are counted as {@link normalizeAddress} gives them: `::ffff:10.1.2.3` and `10.1.2.3`
 * are one address.
 *
 * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) for a limit that is not a whole number >= 1.
 * @example
 * ```ts
 * const admission = new AdmissionControl({ deny: parseCidrList('10.0.0.0/8', 'deny'), maxConnectionsPerAddress: 4 });
 * const answer = admission.admit(peer.remoteAddress);
 * if (!answer.admit) refuseConnection(socket);
 * else socket.once('close', answer.release);
 * ```
 */
export class AdmissionControl {
  private readonly allow: AddressList | undefined;
  private readonly deny: AddressList | undefined;
  private readonly maxConnections: number;
  private readonly maxConnectionsPerAddress: number;
  private openCount = 0;
  private readonly perAddress = new Map<string, number>();
  private readonly refused = { denied: 0, notAllowed: 0, maxConnections: 0, maxConnectionsPerAddress: 0 };

  constructor(rules: AdmissionRules = {}) {
    this.allow = rules.allow;
    this.deny = rules.deny;
    this.maxConnections = limitOf('maxConnections', rules.maxConnections);
    this.maxConnectionsPerAddress = limitOf('maxConnectionsPerAddress', rules.maxConnectionsPerAddress);
  }

  /** True when any rule is set: without one every client is admitted. */
  get hasRules(): boolean {
    return (
      this.allow !== undefined ||
      this.deny !== undefined ||
      this.maxConnections !== Number.POSITIVE_INFINITY ||
      this.maxConnectionsPerAddress !== Number.POSITIVE_INFINITY
    );
  }

  /** Connections admitted and not yet released. */
  get open(): number {
    return this.openCount;
  }

  /** Open connections from `address` (0 for an address with none). */
  openFrom(address: string): number {
    return this.perAddress.get(normalizeAddress(address)) ?? 0;
  }

  /**
   * Lets the connection from `address` in, counting it until `release()`, or says why not (and
   * counts the refusal). `address` is the peer's, e.g. `remotePeer(socket).remoteAddress`.
   */
  admit(address: string): Admission {
    if (this.deny?.matches(address)) return this.refuse('denied');
    if (this.allow && !this.allow.matches(address)) return this.refuse('not-allowed');
    if (this.openCount >= this.maxConnections) return this.refuse('max-connections');
    const key = normalizeAddress(address);
    const fromAddress = this.perAddress.get(key) ?? 0;
    if (fromAddress >= this.maxConnectionsPerAddress) return this.refuse('max-connections-per-address');
    this.openCount += 1;
    this.perAddress.set(key, fromAddress + 1);
    let released = false;
    return {
      admit: true,
      release: () => {
        if (released) return;
        released = true;
        this.openCount -= 1;
        const left = (this.perAddress.get(key) ?? 1) - 1;
        if (left === 0) this.perAddress.delete(key);
        else this.perAddress.set(key, left);
      },
    };
  }

  /** The open connections and the refusals so far. */
  counts(): AdmissionCounts {
    return { open: this.openCount, addresses: this.perAddress.size, refused: { ...this.refused } };
  }

  private refuse(reason: RefusalReason): Refused {
    this.refused[COUNTER_OF[reason]] += 1;
    return REFUSED[reason];
  }
}
