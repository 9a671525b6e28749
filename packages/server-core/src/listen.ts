import type { AddressInfo, Server, Socket } from 'node:net';
import {
  conversationConfig,
  type ConversationConfig,
  type ConversationOptions,
} from './conversation.js';
import { DEFAULT_PORT, InvalidOptionError } from '@comm/protocol';
import { AddressInUseError } from './errors.js';

/** Every address, both families (with `ipv6Only: false`). */
export const DEFAULT_HOST = '::';

/** Where and how a comm server listens, and how it treats each socket. */
export interface ServerOptions<State = Record<string, unknown>> extends ConversationOptions<State> {
  /** The address to listen on. Default `'::'`, dual-stack; `'0.0.0.0'` where the host has no IPv6. */
  host?: string;
  /** The TCP port; `0` picks a free one. Default 2000 (R1). */
  port?: number;
  /** Listen on IPv6 only (no IPv4-mapped clients) when `host` is an IPv6 address. Default `false`. */
  ipv6Only?: boolean;
  /** The kernel's queue of connections not yet accepted. Default: Node's (511). */
  backlog?: number;
  /** Disable Nagle's algorithm so each reply batch leaves at once. Default `true`. */
  noDelay?: boolean;
  /** TCP keep-alive probes on idle connections. Default `false`. */
  keepAlive?: boolean;
  /** Milliseconds of idleness before the first keep-alive probe; `0` leaves the system default. */
  keepAliveInitialDelay?: number;
}

/** The validated listen and socket part of {@link ServerOptions}. */
export interface ListenConfig {
  readonly host: string;
  /** True when `host` was left to the default, which may fall back to `0.0.0.0`. */
  readonly hostIsDefault: boolean;
  readonly port: number;
  readonly ipv6Only: boolean;
  readonly backlog: number | undefined;
  readonly noDelay: boolean;
  readonly keepAlive: boolean;
  readonly keepAliveInitialDelay: number;
}

/** Everything a server needs from its options, validated once. */
export interface ServerConfig<State = Record<string, unknown>> {
  readonly listen: ListenConfig;
  readonly conversation: ConversationConfig<State>;
}

function wholeNumber(value: number | undefined, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(`${name} must be a whole number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function flag(value: boolean | undefined, fallback: boolean, name: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(`${name} must be true or false, got ${String(value)}`);
  return value;
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
  if (options.host !== undefined && (typeof options.host !== 'string' || options.host === '')) {
    throw new InvalidOptionError(`host must be an address or a name, got ${JSON.stringify(options.host)}`);
  }
  const listen: ListenConfig = {
    host: options.host ?? DEFAULT_HOST,
    hostIsDefault: options.host === undefined,
    port: wholeNumber(options.port, DEFAULT_PORT, 0, 65535, 'port'),
    ipv6Only: flag(options.ipv6Only, false, 'ipv6Only'),
    backlog: options.backlog === undefined ? undefined : wholeNumber(options.backlog, 0, 1, 2 ** 31 - 1, 'backlog'),
    noDelay: flag(options.noDelay, true, 'noDelay'),
    keepAlive: flag(options.keepAlive, false, 'keepAlive'),
    keepAliveInitialDelay: wholeNumber(options.keepAliveInitialDelay, 0, 0, 2 ** 31 - 1, 'keepAliveInitialDelay'),
  };
  const conversation = conversationConfig<State>({ ...options, ...hooks });
  return { listen: Object.freeze(listen), conversation };
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
