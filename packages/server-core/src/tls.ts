// TLS on the server (implicit, from the first byte, as RFC 8314 recommends over STARTTLS): the
// accepted socket is wrapped and its handshake run with a deadline before the conversation
// starts; the certificate can be reloaded without a restart (connections open keep theirs).
import type { Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type Server, type TLSSocket } from 'node:tls';
import { InvalidOptionError } from '@comm/protocol';
import { checkOption } from '@comm/protocol/options';

/** The TLS options of the one option table (the command line gives files; the library PEM text or Buffers). */
export const TLS_OPTIONS = {
  tlsCert: { kind: 'text', flag: 'tls-cert', valueName: '<file>', help: 'serve TLS with this certificate (PEM), with --tls-key' },
  tlsKey: { kind: 'text', flag: 'tls-key', valueName: '<file>', help: "the certificate's private key (PEM)" },
  tlsCa: { kind: 'text', flag: 'tls-ca', valueName: '<file>', help: 'CA certificate(s) for client certificates (PEM)' },
  tlsClientAuth: {
    kind: 'choice',
    flag: 'tls-client-auth',
    choices: ['none', 'request', 'require'],
    default: 'none',
    help: 'ask clients for a certificate: none, request (verified if given) or require',
  },
  tlsHandshakeTimeout: {
    kind: 'duration',
    flag: 'tls-handshake-timeout',
    min: 1,
    default: 10_000,
    help: 'time for the TLS handshake, from the accept',
  },
} as const;

/** The `tls` option of both servers. */
export interface ServerTlsOptions {
  /** The certificate chain, PEM. */
  cert: string | Buffer;
  /** Its private key, PEM. */
  key: string | Buffer;
  /** CAs that sign client certificates, PEM. */
  ca?: string | Buffer | undefined;
  /** `'request'`: a client certificate is asked for and verified if given; `'require'`: a client without one is refused. Default `'none'`. */
  clientAuth?: 'none' | 'request' | 'require' | undefined;
  /** Milliseconds for the handshake, from the accept. Default 10,000 (not Node's 120 s). */
  handshakeTimeout?: number | undefined;
}

/** What a handler learns of a TLS connection: `connection.tls`. */
export interface TlsInfo {
  /** `'TLSv1.3'`, `'TLSv1.2'`. */
  readonly protocol: string | null;
  readonly cipher: string;
  /** The ALPN protocol agreed, or `false`. */
  readonly alpn: string | false;
  /** With client auth: the client certificate's subject and SHA-256 fingerprint, once verified. */
  readonly clientCertificate: { readonly subject: string; readonly fingerprint256: string } | undefined;
}

/**
 * Runs the TLS handshake of each accepted socket, with a deadline; made from the `tls` option.
 *
 * @example
 * ```ts
 * const gate = createTlsGate({ cert, key });
 * const secure = await gate?.handshake(socket); // undefined: failed or too slow, and destroyed
 * ```
 */
export class TlsGate {
  /** Handshakes that failed or did not finish in time (each counts as a rejected connection). */
  readonly failed = { handshake: 0, timeout: 0 };
  /**
   * A `tls.Server` that never listens: each accepted socket is handed to it, so the handshake,
   * the client-certificate check, the deadline and `setSecureContext` are Node's own.
   */
  private readonly server: Server;
  /** Handshakes under way, by the client's address and port (unique among open connections). */
  private readonly pending = new Map<string, (secure: TLSSocket | undefined) => void>();
  private options: ServerTlsOptions;

  constructor(options: ServerTlsOptions) {
    this.options = options;
    const clientAuth = checkOption('tls.clientAuth', TLS_OPTIONS.tlsClientAuth, options.clientAuth) as
      | 'none'
      | 'request'
      | 'require';
    const handshakeTimeout = checkOption(
      'tls.handshakeTimeout',
      TLS_OPTIONS.tlsHandshakeTimeout,
      options.handshakeTimeout,
    ) as number;
    checkPem(options);
    this.server = createTlsServer({
      ...pemOf(options),
      requestCert: clientAuth !== 'none',
      rejectUnauthorized: clientAuth === 'require',
      handshakeTimeout,
    });
    this.server.on('secureConnection', (secure: TLSSocket) => this.settle(secure, true));
    this.server.on('tlsClientError', (error: NodeJS.ErrnoException, secure: TLSSocket) => {
      if (error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') this.failed.timeout += 1;
      else this.failed.handshake += 1;
      secure.destroy();
      this.settle(secure, false);
    });
  }

  /** New connections get the new certificate; open ones keep theirs (`setSecureContext`). */
  reload(options: Partial<ServerTlsOptions> = {}): void {
    const next = { ...this.options, ...options };
    checkPem(next);
    this.server.setSecureContext(pemOf(next));
    this.options = next;
  }

  /** Resolves with the secure socket, paused, once the handshake is done; `undefined` when it failed (the socket destroyed). */
  handshake(socket: Socket): Promise<TLSSocket | undefined> {
    return new Promise((resolve) => {
      this.pending.set(keyOf(socket), resolve);
      socket.resume();
      this.server.emit('connection', socket);
    });
  }

  private settle(secure: TLSSocket, ok: boolean): void {
    const key = keyOf(secure);
    const resolve = this.pending.get(key);
    if (resolve === undefined) return;
    this.pending.delete(key);
    if (!ok) {
      resolve(undefined);
      return;
    }
    secure.pause();
    resolve(secure);
  }
}

function keyOf(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}

function pemOf(options: ServerTlsOptions): { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer } {
  return { cert: options.cert, key: options.key, ...(options.ca === undefined ? {} : { ca: options.ca }) };
}

/** Fails early, with the option named, for a certificate and key that cannot be used. */
function checkPem(options: ServerTlsOptions): void {
  if (options.cert === undefined || options.key === undefined) throw new InvalidOptionError('tls needs cert and key');
  try {
    createSecureContext(pemOf(options));
  } catch (error) {
    throw new InvalidOptionError(`tls: cannot use the certificate and key: ${(error as Error).message}`);
  }
}

/** The handshake's outcome as a handler sees it. */
export function tlsInfoOf(socket: TLSSocket): TlsInfo {
  const certificate = socket.authorized ? socket.getPeerCertificate() : undefined;
  const subject = certificate?.subject;
  return {
    protocol: socket.getProtocol(),
    cipher: socket.getCipher().name,
    alpn: socket.alpnProtocol ?? false,
    clientCertificate:
      certificate !== undefined && subject !== undefined && Object.keys(certificate).length > 0
        ? {
            subject: Object.entries(subject)
              .map(([key, value]) => `${key}=${String(value)}`)
              .join(', '),
            fingerprint256: certificate.fingerprint256,
          }
        : undefined,
  };
}

/**
 * Validates the `tls` option and makes the gate, or `undefined` for plain TCP.
 *
 * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) for a missing or unreadable certificate or key.
 */
export function createTlsGate(options: ServerTlsOptions | undefined): TlsGate | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('tls must be an object with cert and key');
  return new TlsGate(options);
}
