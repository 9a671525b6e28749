import type { AddressInfo, Server, Socket } from 'node:net';
import { InvalidOptionError } from '@comm/protocol';
import { resolveOptions } from '@comm/protocol/options';
import { conversationConfig, type ConversationConfig, type ConversationOptions } from './config.js';
import { createAdmissionControl, type AdmissionControl, type AdmissionOptions } from './admission/index.js';
import { AddressInUseError } from './errors.js';
import { createProxyGate, type ProxyGate, type ProxyOptions } from './proxy/gate.js';
import { createTlsGate, type ServerTlsOptions, type TlsGate } from './tls.js';
import { LISTEN_OPTIONS, type ListenValues } from './options.js';
import type { ServerStatsBase } from './surface.js';

/** Where and how a comm server listens, and how it treats each socket: see {@link LISTEN_OPTIONS}. */
export interface ServerOptions<State = Record<string, unknown>>
  extends ConversationOptions<State>,
    Partial<ListenValues>,
    AdmissionOptions,
    ProxyOptions {
  /** TLS from the first byte: `{ cert, key, ca?, clientAuth?, handshakeTimeout? }`. Default: plain TCP. */
  tls?: ServerTlsOptions | undefined;
}

/** The validated listen and socket part of {@link ServerOptions}. */
export interface ListenConfig extends Readonly<ListenValues> {
  /** True when `host` was left to the default, which may fall back to `0.0.0.0`. */
  readonly hostIsDefault: boolean;
}

/** Everything a server needs from its options, validated once. */
export interface ServerConfig<State = Record<string, unknown>> {
  readonly listen: ListenConfig;
  readonly conversation: ConversationConfig<State>;
  /** Who may connect and how many at once; asked at every accept, told at every close. */
  readonly admission: AdmissionControl;
  /** The PROXY protocol gate, or `undefined` when the protocol is off. */
  readonly proxy: ProxyGate | undefined;
  /** The TLS handshake gate, or `undefined` for plain TCP. */
  readonly tls: TlsGate | undefined;
}

/**
 * What the edge of a server turned away, for `stats()`: the admission rules, the PROXY gate and
 * the TLS handshakes, zeros for those not in use. Both servers report it the same way.
 *
 * @example
 * ```ts
 * return { ...tally.counts(), ...edgeCounts(config) };
 * ```
 */
export function edgeCounts<State>(config: ServerConfig<State>): Pick<ServerStatsBase, 'refused' | 'proxyRefused' | 'tlsFailed'> {
  return {
    refused: config.admission.counts().refused,
    proxyRefused: { notFromBalancer: 0, invalid: 0, timeout: 0, ...config.proxy?.refused },
    tlsFailed: { handshake: 0, timeout: 0, ...config.tls?.failed },
  };
}

/**
 * Validates server options and fills in the defaults. `hooks` are the server's own conversation
 * hooks (e.g. its `onClose`); they replace the user's of the same name.
 *
 * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) for a value out of range.
 * @example
 * ```ts
 * const { listen, conversation } = resolveServerOptions({ port: 0, maxLineLength: 1024 });
 * ```
 */
export function resolveServerOptions<State = Record<string, unknown>>(
  options: ServerOptions<State> = {},
  hooks: Pick<ConversationOptions<State>, 'onClose' | 'onHandlerError'> = {},
): ServerConfig<State> {
  const listen: ListenConfig = { ...resolveOptions(LISTEN_OPTIONS, options), hostIsDefault: options.host === undefined };
  const conversation = conversationConfig<State>({ ...options, ...hooks });
  const proxy = createProxyGate(options);
  const tls = createTlsGate(options.tls);
  if (proxy !== undefined && tls !== undefined) {
    throw new InvalidOptionError(
      'proxyProtocol and tls together are not supported yet: terminate TLS at the balancer, or use one of them',
    );
  }
  return { listen: Object.freeze(listen), conversation, admission: createAdmissionControl(options), proxy, tls };
}

/** Applies the per-socket options (no-delay, keep-alive) to an accepted socket. */
export function prepareSocket(socket: Socket, listen: ListenConfig): void {
  if (socket.destroyed) return;
  if (listen.noDelay) socket.setNoDelay(true);
  if (listen.keepAlive) socket.setKeepAlive(true, listen.keepAliveInitialDelay);
}

function listenOnce(server: Server, listen: ListenConfig, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port: listen.port, ipv6Only: listen.ipv6Only, backlog: listen.backlog });
  });
}

/** The errors that say "this host has no IPv6", after which `::` falls back to `0.0.0.0`. */
const NO_IPV6 = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT']);

/**
 * Listens dual-stack (R1): on `::` with IPv4-mapped clients, or on `0.0.0.0` when the host has
 * no IPv6 and the host was left to the default. Resolves with the bound address.
 *
 * @throws {AddressInUseError} (`COMM_ADDRESS_IN_USE`) when the port is taken; other listen
 *   errors (EACCES, ENOTFOUND...) as Node reports them.
 * @example
 * ```ts
 * const address = await listenDualStack(net.createServer(onSocket), resolveServerOptions({ port: 0 }).listen);
 * ```
 */
export async function listenDualStack(server: Server, listen: ListenConfig): Promise<AddressInfo> {
  try {
    try {
      return await listenOnce(server, listen, listen.host);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (!listen.hostIsDefault || code === undefined || !NO_IPV6.has(code)) throw error;
      return await listenOnce(server, listen, '0.0.0.0');
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new AddressInUseError(listen.host, listen.port, { cause: error });
    }
    throw error;
  }
}
