import type { Socket } from 'node:net';
import { formatEndpoint } from '@comm/protocol';

/** Who is on the other end of a socket. */
export interface PeerAddress {
  /** Without the `::ffff:` prefix of IPv4-mapped addresses. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** `'IPv4'` for an IPv4-mapped peer of a dual-stack listener, as for a plain IPv4 one. */
  readonly remoteFamily: string;
}

/** Who a client is, as every server event tells it: the same record on both servers and across threads. */
export interface ConnectionInfo extends PeerAddress {
  /** Unique among the connections of one server, given in order of arrival from 1. */
  readonly connectionId: number;
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; anything else unchanged. */
export function normalizeAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.length > 7 && address.startsWith('::ffff:') && address.includes('.', 7) ? address.slice(7) : address;
}

/**
 * The peer of a socket as people expect to read it (R1): `127.0.0.1`, not `::ffff:127.0.0.1`.
 * Empty address and port 0 for a socket that is already gone, which is why servers take it
 * when they accept the connection, not later.
 *
 * @example
 * ```ts
 * remotePeer(socket); // { remoteAddress: '127.0.0.1', remotePort: 51234, remoteFamily: 'IPv4' }
 * ```
 */
export function remotePeer(socket: Socket): PeerAddress {
  const remoteAddress = normalizeAddress(socket.remoteAddress);
  const family = socket.remoteFamily ?? '';
  return {
    remoteAddress,
    remotePort: socket.remotePort ?? 0,
    remoteFamily: family === 'IPv6' && remoteAddress.indexOf(':') === -1 ? 'IPv4' : family,
  };
}

/**
 * The chapter's line for a new client, written in one place for both servers and their commands.
 *
 * @example
 * ```ts
 * connectedBy({ remoteAddress: '::1', remotePort: 53412 }); // 'Connected by [::1]:53412'
 * ```
 */
export function connectedBy(peer: Pick<PeerAddress, 'remoteAddress' | 'remotePort'>): string {
  return `Connected by ${formatEndpoint(peer.remoteAddress, peer.remotePort)}`;
}
