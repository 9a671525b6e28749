import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { InvalidOptionError, checkMaxLineLength, formatEndpoint, type CommError } from '@comm/protocol';
import { resolveTarget, type AddressInput, type Target } from './address.js';
import { checkMilliseconds } from './checks.js';
import { CommClient } from './client.js';
import {
  AbortedError,
  CommTimeoutError,
  ConnectFailedError,
  ConnectionRefusedError,
  HostNotFoundError,
  TlsCertificateError,
  TlsHandshakeError,
} from './errors.js';

const DEFAULT_CONNECT_TIMEOUT = 10_000;
const DEFAULT_CLOSE_TIMEOUT = 5_000;

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** Port, default 2000 (R1). */
  port?: number;
  /** 4 or 6 forces that family; 0 (default) tries both as Node's family auto-selection does. */
  family?: 0 | 4 | 6;
  /** The scope of an IPv6 link-local address: an interface name (`'eth0'`) or index. */
  scopeId?: string | number;
  /** The IPv6 flow label. Only 0 is accepted: Node's `net` cannot set it. */
  flowinfo?: number;
  /** Milliseconds to wait for the connection, name lookup included; 0 for no limit. Default 10,000. */
  connectTimeout?: number;
  /**
   * Milliseconds to wait for a reply; 0 (default) for no limit. The default for
   * {@link CommClient.request}, and for {@link CommClient.pipeline} the longest wait
   * without any reply while replies are owed.
   */
  timeout?: number;
  /** Milliseconds `close()` waits for the `BYE` reply and the server's close. Default 5,000. */
  closeTimeout?: number;
  /** Disable Nagle's algorithm, so each line leaves at once. Default `true`: this is an interactive protocol. */
  noDelay?: boolean;
  /** TCP keep-alive probes, so a dead peer is noticed on an idle connection. Default `false`. */
  keepAlive?: boolean;
  /** Milliseconds of idleness before the first keep-alive probe; 0 keeps the system's value. */
  keepAliveInitialDelay?: number;
  /** Try IPv6 and IPv4 addresses of a host name in turn (RFC 8305). Default: Node's default (on). */
  autoSelectFamily?: boolean;
  /** Milliseconds each address gets before the next is tried, with `autoSelectFamily`. */
  autoSelectFamilyAttemptTimeout?: number;
  /** The longest reply line accepted, in bytes (R7). Default 65,536. */
  maxLineLength?: number;
  /** Aborts the connect. */
  signal?: AbortSignal;
  /**
   * TLS from the first byte (RFC 8314's implicit TLS): `true` verifies the server against the
   * system's CAs and the host name; an object gives `ca`, a client `cert` and `key`, the
   * `servername` to verify (default: the host), or `rejectUnauthorized: false` (no verification:
   * for tests only). A certificate that fails is `COMM_TLS_CERTIFICATE_INVALID`. Default: plain TCP.
   */
  tls?: boolean | TlsOptions;
}

/** The TLS options of {@link ConnectOptions.tls}. */
export interface TlsOptions {
  ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
  rejectUnauthorized?: boolean;
}

/** {@link ConnectOptions} with the host inside, for `connect({ host, ... })`. */
export interface ConnectOptionsWithHost extends ConnectOptions {
  /** A host name, an IPv4 or IPv6 address (brackets optional), or `fe80::1%eth0`. */
  host: string;
}

/** A failed name lookup: Node reports getaddrinfo's "no such name" as ENOTFOUND, other failures as EAI_*. */
function isNameError(code: string | undefined): boolean {
  return code === 'ENOTFOUND' || code?.startsWith('EAI_') === true;
}

/** The system errors under a connect failure (several when more than one address was tried). */
function leafErrors(error: NodeJS.ErrnoException): NodeJS.ErrnoException[] {
  const nested = (error as { errors?: unknown }).errors;
  return Array.isArray(nested) && nested.length > 0 ? (nested as NodeJS.ErrnoException[]) : [error];
}

/** Turns a connect failure from `net` into the client's error, naming the address tried. */
/** OpenSSL's and Node's codes for a certificate that does not verify. */
const CERTIFICATE_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY|DECRYPT)|ALTNAME|CHAIN/;

function tlsError(error: NodeJS.ErrnoException, target: Target): CommError | undefined {
  const code = error.code ?? '';
  if (CERTIFICATE_CODE.test(code)) return new TlsCertificateError(target.display, code, error.message, { cause: error });
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code === 'ECONNRESET' || code === 'EPROTO') {
    return new TlsHandshakeError(target.display, `${error.message}${code ? ` (${code})` : ''}`, { cause: error });
  }
  return undefined;
}

function connectError(error: NodeJS.ErrnoException, target: Target, connected: boolean): CommError {
  if (connected) {
    const failure = tlsError(error, target);
    if (failure !== undefined) return failure;
  }
  const leaves = leafErrors(error);
  const code = leaves[0]?.code ?? error.code;
  if (isNameError(code)) {
    const detail = code === 'ENOTFOUND' && target.family !== 0 ? `no IPv${target.family} address` : (code ?? 'lookup failed');
    return new HostNotFoundError(target.display, detail, { cause: error });
  }
  const tried = leaves
    .filter((leaf) => typeof (leaf as { address?: unknown }).address === 'string')
    .map((leaf) => formatEndpoint(String((leaf as { address?: unknown }).address), target.port));
  const literal = tried.length === 1 && tried[0] === target.display;
  const address = tried.length === 0 || literal ? target.display : `${target.display} (${tried.join(', ')})`;
  if (leaves.every((leaf) => leaf.code === 'ECONNREFUSED')) return new ConnectionRefusedError(address, { cause: error });
  return new ConnectFailedError(address, code, { cause: error });
}

/**
 * Opens a connection to a comm server and resolves once it is established.
 *
 * The host may be a name (IPv6 and IPv4 addresses are tried in turn unless `family` forces
 * one), an IPv4 address, an IPv6 address with or without brackets, or a link-local address
 * with its scope (`fe80::1%eth0`, or the address plus `scopeId`: Python's 4-tuple).
 *
 * @throws (rejects) `COMM_CONNECTION_REFUSED`, `COMM_HOST_NOT_FOUND`, `COMM_TIMEOUT`,
 * `COMM_CONNECT_FAILED`, `COMM_ABORTED`, `COMM_FLOWINFO_UNSUPPORTED`, `COMM_INVALID_OPTION`.
 * @example
 * ```ts
 * const client = await connect('localhost', 2000, { connectTimeout: 5000 });
 * console.log(await client.request('hello'));
 * await client.close();
 *
 * const linkLocal = await connect({ host: 'fe80::1', scopeId: 'eth0', port: 2000 });
 * ```
 */
export function connect(host: string, port?: number, options?: ConnectOptions): Promise<CommClient>;
export function connect(options: ConnectOptionsWithHost): Promise<CommClient>;
export function connect(
  hostOrOptions: string | ConnectOptionsWithHost,
  port?: number,
  options: ConnectOptions = {},
): Promise<CommClient> {
  try {
    const all: ConnectOptionsWithHost =
      typeof hostOrOptions === 'string'
        ? { ...options, host: hostOrOptions, ...(port === undefined ? {} : { port }) }
        : hostOrOptions;
    if (all === null || typeof all !== 'object') throw new InvalidOptionError('connect needs a host');
    const addressInput: AddressInput = {
      host: all.host,
      port: all.port,
      family: all.family,
      scopeId: all.scopeId,
      flowinfo: all.flowinfo,
    };
    const target = resolveTarget(addressInput);
    const connectTimeout = checkMilliseconds(all.connectTimeout, 'connectTimeout', DEFAULT_CONNECT_TIMEOUT);
    const settings = {
      timeout: checkMilliseconds(all.timeout, 'timeout', 0),
      closeTimeout: checkMilliseconds(all.closeTimeout, 'closeTimeout', DEFAULT_CLOSE_TIMEOUT),
      maxLineLength: checkMaxLineLength(all.maxLineLength),
    };
    const keepAliveInitialDelay = checkMilliseconds(all.keepAliveInitialDelay, 'keepAliveInitialDelay', 0);
    const signal = all.signal;
    if (signal?.aborted) throw new AbortedError(target.display, { cause: signal.reason });
    const tls = tlsOptions(all.tls, all.host);
    return new Promise<CommClient>((resolve, reject) => {
      const netOptions = {
        host: target.host,
        port: target.port,
        family: target.family,
        noDelay: all.noDelay ?? true,
        keepAlive: all.keepAlive ?? false,
        keepAliveInitialDelay,
        ...(all.autoSelectFamily === undefined ? {} : { autoSelectFamily: all.autoSelectFamily }),
        ...(all.autoSelectFamilyAttemptTimeout === undefined
          ? {}
          : { autoSelectFamilyAttemptTimeout: all.autoSelectFamilyAttemptTimeout }),
      };
      const socket: Socket = tls === undefined ? netConnect(netOptions) : tlsConnect({ ...netOptions, ...tls });
      // With TLS the TCP connect comes first, then the handshake: an error after it is TLS's.
      let tcpConnected = false;
      if (tls !== undefined) socket.once('connect', () => (tcpConnected = true));
      let timer: NodeJS.Timeout | undefined;
      const fail = (error: CommError): void => {
        cleanup();
        socket.destroy();
        reject(error);
      };
      const onError = (error: NodeJS.ErrnoException): void => fail(connectError(error, target, tcpConnected));
      const onAbort = (): void => fail(new AbortedError(target.display, { cause: signal?.reason }));
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        socket.off('error', onError);
        signal?.removeEventListener('abort', onAbort);
      };
      if (connectTimeout > 0) {
        timer = setTimeout(() => fail(new CommTimeoutError('connect', target.display, connectTimeout)), connectTimeout);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
        cleanup();
        const remote = socket.remoteAddress;
        const resolved = remote === undefined ? target.display : formatEndpoint(remote, target.port);
        const address =
          resolved === target.display || remote === target.host ? target.display : `${target.display} (${resolved})`;
        resolve(new CommClient(socket, address, settings));
      });
    });
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The `tls.connect` options for `tls`, or `undefined` for plain TCP. */
function tlsOptions(tls: ConnectOptions['tls'], host: string): ConnectionOptions | undefined {
  if (tls === undefined || tls === false) return undefined;
  if (tls === true) return { servername: serverName(host) };
  if (typeof tls !== 'object' || tls === null)
    throw new InvalidOptionError(`tls must be true, false or an object, got ${String(tls)}`);
  return {
    servername: tls.servername ?? serverName(host),
    ...(tls.ca === undefined ? {} : { ca: tls.ca as ConnectionOptions['ca'] }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
  };
}

/** SNI is for names only (RFC 6066): an IP literal is verified against the certificate's IP entries instead. */
function serverName(host: string): string | undefined {
  const bare = host.replace(/^\[|\]$/g, '');
  return isIP(bare) === 0 ? bare : undefined;
}
