// The PROXY protocol at accept: a connection from a balancer named in `proxyFrom` must begin
// with a header, read here (with a deadline) before the conversation starts; what came after the
// header is put back for the conversation, so no byte is lost or read twice.
import type { Socket } from 'node:net';
import { InvalidOptionError } from '@comm/protocol';
import { resolveOptions } from '@comm/protocol/options';
import { parseCidrList, type AddressList } from '../admission/index.js';
import type { PeerAddress } from '../peer.js';
import { type ProxyHeaderError, ProxyHeaderTimeoutError } from './errors.js';
import type { ProxyHeader } from './header.js';
import { ProxyHeaderParser, type ProxyHeaderMode } from './parse.js';

/** The PROXY protocol options, entries of the one option table. */
export const PROXY_OPTIONS = {
  /** Expect a PROXY protocol header (v1, v2 or either) from the balancers of `proxyFrom`. Default `'off'`. */
  proxyProtocol: {
    kind: 'choice',
    flag: 'proxy-protocol',
    choices: ['off', 'v1', 'v2', 'any'],
    default: 'off',
    help: 'expect a PROXY protocol header from the balancers of --proxy-from',
  },
  /** The balancers allowed to send a header: addresses or CIDRs (required with `proxyProtocol`). */
  proxyFrom: {
    kind: 'text',
    flag: 'proxy-from',
    valueName: '<cidrs>',
    help: 'balancers that send the PROXY header: addresses or CIDRs, comma-separated',
  },
  /**
   * A client not in `proxyFrom`: `'refuse'` (default, as the specification says: a receiver never
   * guesses) or `'plain'`, served without a header (outside the specification).
   */
  proxyOthers: {
    kind: 'choice',
    flag: 'proxy-others',
    choices: ['refuse', 'plain'],
    default: 'refuse',
    help: 'clients not in --proxy-from: refused (the specification), or served plainly (outside it)',
  },
  /** Milliseconds for the header to arrive whole, from the accept. Default 5,000. */
  proxyHeaderTimeout: {
    kind: 'duration',
    flag: 'proxy-header-timeout',
    min: 1,
    default: 5000,
    help: 'time for the PROXY header to arrive whole',
  },
} as const;

/** The PROXY protocol options of the library. */
export interface ProxyOptions {
  proxyProtocol?: 'off' | ProxyHeaderMode | undefined;
  /** Addresses and CIDRs, as one comma-separated string or an array. */
  proxyFrom?: string | readonly string[] | undefined;
  proxyOthers?: 'refuse' | 'plain' | undefined;
  proxyHeaderTimeout?: number | undefined;
}

/** A connection that came through a balancer: the balancer's end, and what its header said. */
export interface ProxyInfo {
  /** The balancer's address and port (the socket's peer). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The header, its TLVs included. */
  readonly header: ProxyHeader;
}

/** Who a connection is after the gate: the client (from the header), and the balancer if any. */
export interface GatePassed {
  readonly peer: PeerAddress;
  readonly proxy: ProxyInfo | undefined;
}

/** Why the gate closed a connection. */
export type ProxyRefusalReason = 'not-from-balancer' | 'proxy-header-invalid' | 'proxy-header-timeout';

/** A connection the gate closed. */
export interface GateRefused {
  readonly refused: ProxyRefusalReason;
}

/** Connections the gate closed, by reason. */
export interface ProxyRefusals {
  /** Not from a `proxyFrom` address (with `proxyOthers: 'refuse'`). */
  notFromBalancer: number;
  /** From a balancer, but the header was malformed or the connection ended before it. */
  invalid: number;
  /** From a balancer, but the header did not arrive whole within `proxyHeaderTimeout`. */
  timeout: number;
}

/**
 * Reads the PROXY header of each connection from a balancer, and refuses what the
 * specification says to refuse. Made by {@link createProxyGate}; `undefined` when the protocol is off.
 *
 * @example
 * ```ts
 * const gate = createProxyGate({ proxyProtocol: 'v2', proxyFrom: '10.0.0.0/8' });
 * const passed = await gate?.pass(socket, remotePeer(socket));
 * if (passed === undefined) return; // refused and closed
 * ```
 */
export class ProxyGate {
  readonly refused: ProxyRefusals = { notFromBalancer: 0, invalid: 0, timeout: 0 };
  private readonly mode: ProxyHeaderMode;
  private readonly from: AddressList;
  private readonly servePlain: boolean;
  private readonly timeout: number;

  constructor(mode: ProxyHeaderMode, from: AddressList, servePlain: boolean, timeout: number) {
    this.mode = mode;
    this.from = from;
    this.servePlain = servePlain;
    this.timeout = timeout;
  }

  /**
   * Resolves with who the connection is, or why it was refused (and destroyed). The socket is
   * left paused, with the bytes after the header put back in front.
   */
  pass(socket: Socket, peer: PeerAddress): Promise<GatePassed | GateRefused> {
    if (!this.from.matches(peer.remoteAddress)) {
      if (this.servePlain) return Promise.resolve({ peer, proxy: undefined });
      this.refused.notFromBalancer += 1;
      socket.destroy();
      return Promise.resolve({ refused: 'not-from-balancer' });
    }
    return new Promise((resolve) => {
      const parser = new ProxyHeaderParser({ mode: this.mode });
      const finish = (passed: GatePassed | undefined, failure?: ProxyHeaderError | ProxyHeaderTimeoutError): void => {
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('close', onClose);
        // A refused socket keeps the listener: destroy(failure) emits its 'error' after this.
        if (passed !== undefined) socket.off('error', ignore);
        if (passed !== undefined) {
          resolve(passed);
          return;
        }
        const timedOut = failure instanceof ProxyHeaderTimeoutError;
        if (timedOut) this.refused.timeout += 1;
        else this.refused.invalid += 1;
        socket.destroy(failure);
        resolve({ refused: timedOut ? 'proxy-header-timeout' : 'proxy-header-invalid' });
      };
      const onData = (chunk: Buffer): void => {
        const result = parser.push(chunk);
        if (result.state === 'need-more') return;
        if (result.state === 'error') {
          finish(undefined, result.error);
          return;
        }
        socket.pause();
        if (result.rest.length > 0) socket.unshift(result.rest);
        finish(passedFrom(result.header, peer));
      };
      const onEnd = (): void => {
        const result = parser.end();
        finish(undefined, result.state === 'error' ? result.error : undefined);
      };
      const onClose = (): void => finish(undefined);
      const timer = setTimeout(() => finish(undefined, new ProxyHeaderTimeoutError(this.timeout)), this.timeout);
      socket.on('error', ignore);
      socket.on('data', onData);
      socket.once('end', onEnd);
      socket.once('close', onClose);
      socket.resume();
    });
  }
}

function ignore(): void {}

/** The client as the header tells it; LOCAL, UNKNOWN, UNIX and UNSPEC headers keep the real endpoints. */
function passedFrom(header: ProxyHeader, balancer: PeerAddress): GatePassed {
  const proxy: ProxyInfo = { remoteAddress: balancer.remoteAddress, remotePort: balancer.remotePort, header };
  const source = header.command === 'PROXY' ? header.source : undefined;
  if (source === undefined) return { peer: balancer, proxy };
  const remoteFamily = header.family === 'IPv6' ? 'IPv6' : 'IPv4';
  return { peer: { remoteAddress: source.address, remotePort: source.port, remoteFamily }, proxy };
}

/**
 * Validates the PROXY options and makes the gate, or `undefined` when `proxyProtocol` is off.
 *
 * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) for a bad value, or `proxyProtocol` without `proxyFrom`.
 * @example
 * ```ts
 * createProxyGate({ proxyProtocol: 'any', proxyFrom: ['127.0.0.1', '::1'] });
 * ```
 */
export function createProxyGate(options: ProxyOptions = {}): ProxyGate | undefined {
  const values = resolveOptions(PROXY_OPTIONS, {
    proxyProtocol: options.proxyProtocol,
    proxyOthers: options.proxyOthers,
    proxyHeaderTimeout: options.proxyHeaderTimeout,
  });
  if (values.proxyProtocol === 'off') return undefined;
  if (options.proxyFrom === undefined) {
    throw new InvalidOptionError('proxyProtocol needs proxyFrom: the balancers allowed to send a header');
  }
  return new ProxyGate(
    values.proxyProtocol,
    parseCidrList(options.proxyFrom, 'proxyFrom'),
    values.proxyOthers === 'plain',
    values.proxyHeaderTimeout,
  );
}
