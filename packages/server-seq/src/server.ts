import { EventEmitter } from 'node:events';
import net, { type AddressInfo, type Socket } from 'node:net';
import { errorReply, InvalidOptionError } from '@comm/protocol';
import { checkOption } from '@comm/protocol/options';
import {
  ConnectionTally,
  admitSocket,
  edgeCounts,
  ServerBusyError,
  ServerClosedError,
  connectedBy,
  disconnectInfo,
  ignoreError,
  listenDualStack,
  prepareSocket,
  refuseConnection,
  remotePeer,
  resolveServerOptions,
  serveConnection,
  type ConnectionContext,
  type ServerStatsBase,
  type ServerTlsOptions,
  type ConnectionInfo,
  type ProxyInfo,
  type Conversation,
  type ServerConfig,
  type ServerEvents,
  type ServerOptions,
} from '@comm/server-core';
import { SEQUENTIAL_OPTIONS } from './options.js';

/** R16: how many clients may wait for their turn, by default. */
export const DEFAULT_MAX_WAITING = SEQUENTIAL_OPTIONS.maxWaiting.default;

/** Options of the sequential server: where it listens, the handler, the limits, and the queue. */
export interface SequentialServerOptions<State = Record<string, unknown>> extends ServerOptions<State> {
  /**
   * R16: how many accepted clients may wait for their turn. One more gets
   * `ERR COMM_SERVER_BUSY ...` and is closed. `0` means nobody waits. Default 128.
   */
  maxWaiting?: number;
}

/** A client accepted while another is served: the `waiting` event. */
export interface WaitingInfo extends ConnectionInfo {
  /** 1 for the next to be served. */
  readonly position: number;
}

/**
 * The events of a {@link SequentialServer} and their arguments: those of every comm server
 * (`listening`, `connection`, `disconnect`, `handlerError`, `error`, `close`), and the queue's.
 */
export interface SequentialServerEvents extends ServerEvents {
  /** A client was accepted and waits, in arrival order. */
  waiting: [info: WaitingInfo];
  /** A client was turned away: `maxWaiting` clients were already waiting. */
  busy: [info: ConnectionInfo];
}

/** A client accepted and waiting: its socket, and who it was when it was accepted. */
interface Waiting {
  readonly socket: Socket;
  readonly info: ConnectionInfo;
  /** The balancer and its PROXY header, when the client came through one. */
  readonly proxy: ProxyInfo | undefined;
}

/**
 * The sequential comm server: one client at a time, the others accepted and waiting in arrival
 * order without being read (R16), then served in that order. Dual-stack by default (R1).
 *
 * @example
 * ```ts
 * import { createServer } from '@comm/server-seq';
 *
 * const server = createServer({ port: 2000 });
 * server.on('connection', ({ message }) => console.log(message)); // Connected by 127.0.0.1:53412
 * await server.listen();
 * ```
 */
export class SequentialServer<State = Record<string, unknown>> extends EventEmitter<SequentialServerEvents> {
  /** The validated options in force. */
  readonly config: ServerConfig<State>;
  readonly maxWaiting: number;
  private readonly netServer: net.Server;
  private readonly waiting: Waiting[] = [];
  private readonly tally = new ConnectionTally();
  private current: Conversation<State> | undefined = undefined;
  private lastConnectionId = 0;
  private listening = false;
  private closing = false;
  private closePromise: Promise<void> | undefined = undefined;

  constructor(options: SequentialServerOptions<State> = {}) {
    super();
    this.maxWaiting = checkOption('maxWaiting', SEQUENTIAL_OPTIONS.maxWaiting, options.maxWaiting) as number;
    const userOnClose = options.onClose;
    const userOnHandlerError = options.onHandlerError;
    this.config = resolveServerOptions<State>(options, {
      onClose: (conversation) => {
        userOnClose?.(conversation);
        this.served(conversation);
      },
      onHandlerError: (error, context) => {
        userOnHandlerError?.(error, context);
        this.emit('handlerError', error, context);
      },
    });
    // Waiting clients must not be read (R16): pauseOnConnect keeps their bytes in the kernel.
    this.netServer = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(socket));
    this.netServer.on('error', (error) => {
      if (this.listening && this.listenerCount('error') > 0) this.emit('error', error);
    });
  }

  /** How many clients wait for their turn. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** The client being served, if any. */
  get serving(): ConnectionContext<State> | undefined {
    return this.current;
  }

  /**
   * Counters of the connections served (those waiting are not counted until their turn), the
   * same shape as the threaded server's.
   */
  stats(): Promise<ServerStatsBase> {
    return Promise.resolve({
      ...this.tally.counts(),
      ...edgeCounts(this.config),
    });
  }

  /**
   * With `tls`: takes a new certificate (and key, CA) for the connections accepted from now on;
   * those open keep theirs. The command does it on SIGHUP.
   *
   * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) when the new certificate cannot be used; the old one stays.
   */
  reloadTls(tls: Partial<ServerTlsOptions> = {}): void {
    if (this.config.tls === undefined) throw new InvalidOptionError('reloadTls: this server was not started with tls');
    this.config.tls.reload(tls);
  }

  /** The bound address once listening, else `null`. */
  address(): AddressInfo | null {
    return this.netServer.address() as AddressInfo | null;
  }

  /**
   * Starts listening; resolves with the bound address.
   *
   * @throws {AddressInUseError} (`COMM_ADDRESS_IN_USE`) when the port is taken.
   * @throws {ServerClosedError} (`COMM_SERVER_CLOSED`) after `close()`.
   */
  async listen(): Promise<AddressInfo> {
    if (this.closing) throw new ServerClosedError('server closed: cannot listen again');
    const address = await listenDualStack(this.netServer, this.config.listen);
    this.listening = true;
    this.emit('listening', address);
    return address;
  }

  /**
   * Shuts down gracefully (R17): stops accepting, closes waiting clients without a line, lets
   * the client being served have every line it sent answered, and resolves once every
   * connection has closed. A client that does not read its replies holds this up: `destroy()`.
   */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    this.closePromise = new Promise<void>((resolve) => {
      const done = (): void => {
        this.listening = false;
        this.emit('close');
        resolve();
      };
      if (this.netServer.listening) this.netServer.close(done);
      else queueMicrotask(done);
    });
    const lingerTimeout = this.config.conversation.lingerTimeout;
    for (const { socket } of this.waiting.splice(0)) refuseConnection(socket, undefined, lingerTimeout);
    void this.current?.close();
    return this.closePromise;
  }

  /** Closes everything now, without answering; replies not yet flushed are lost. */
  destroy(): void {
    const closing = this.close();
    for (const { socket } of this.waiting.splice(0)) socket.destroy();
    this.current?.destroy();
    void closing;
  }

  private accept(socket: Socket): void {
    // Who the client is, taken now: a socket reset while it waits no longer knows its peer.
    const info: ConnectionInfo = { connectionId: ++this.lastConnectionId, ...remotePeer(socket) };
    if (info.remotePort === 0) {
      // Reset before it was accepted: nobody to serve, nobody to announce.
      socket.destroy();
      return;
    }
    if (this.closing) {
      refuseConnection(socket, undefined, this.config.conversation.lingerTimeout);
      return;
    }
    const gate = this.config.proxy;
    if (gate === undefined) {
      this.admit({ socket, info, proxy: undefined });
      return;
    }
    // Behind a balancer: the client is who the PROXY header says, read before anything else.
    void gate.pass(socket, info).then((passed) => {
      if ('refused' in passed) {
        if (this.listenerCount('refused') > 0) this.emit('refused', info, passed.refused);
      } else if (this.closing) {
        refuseConnection(socket, undefined, this.config.conversation.lingerTimeout);
      } else {
        this.admit({ socket, info: { connectionId: info.connectionId, ...passed.peer }, proxy: passed.proxy });
      }
    });
  }

  /** The admission rules, then the turn: served now, or waiting in line (R16). */
  private admit(client: Waiting): void {
    const { socket, info } = client;
    const { refused } = admitSocket(this.config.admission, socket, info.remoteAddress, this.config.conversation.lingerTimeout);
    if (refused !== undefined) {
      if (this.listenerCount('refused') > 0) this.emit('refused', info, refused);
      return;
    }
    prepareSocket(socket, this.config.listen);
    const tls = this.config.tls;
    if (tls !== undefined) {
      // The handshake at accept, with its deadline; a waiting client waits with it done, unread.
      void tls.handshake(socket).then((secure) => {
        if (secure === undefined) {
          if (this.listenerCount('refused') > 0) this.emit('refused', info, 'tls-handshake-failed');
        } else if (this.closing) refuseConnection(secure, undefined, this.config.conversation.lingerTimeout);
        else this.take({ ...client, socket: secure });
      });
      return;
    }
    this.take(client);
  }

  /** The turn: served now, or waiting in line (R16). */
  private take(client: Waiting): void {
    const { socket, info } = client;
    if (this.current === undefined) {
      this.serve(client);
      return;
    }
    if (this.waiting.length >= this.maxWaiting) {
      // R16: the queue is full; one line says why, then the connection closes.
      this.emit('busy', info);
      refuseConnection(socket, errorReply(new ServerBusyError()), this.config.conversation.lingerTimeout);
      return;
    }
    socket.on('error', ignoreError);
    this.waiting.push(client);
    if (this.listenerCount('waiting') > 0) this.emit('waiting', { ...info, position: this.waiting.length });
  }

  private serve({ socket, info, proxy }: Waiting): void {
    socket.off('error', ignoreError);
    const conversation = serveConnection(socket, this.config.conversation, {
      connectionId: info.connectionId,
      peer: info,
      proxy,
    });
    this.current = conversation;
    this.tally.opened(conversation as Conversation<never>);
    this.emit('connection', { ...info, message: connectedBy(info) });
  }

  private served(conversation: Conversation<State>): void {
    this.tally.closed(conversation as Conversation<never>);
    if (this.listenerCount('disconnect') > 0) this.emit('disconnect', disconnectInfo(conversation as Conversation<never>));
    if (this.current !== conversation) return;
    this.current = undefined;
    if (this.closing) return;
    const next = this.waiting.shift();
    if (next !== undefined) this.serve(next);
  }
}

/**
 * Creates a sequential comm server; call `listen()` to start it.
 *
 * @example
 * ```ts
 * const server = createServer({ port: 0, handler: (line) => line.toUpperCase() });
 * const { port } = await server.listen();
 * ```
 */
export function createServer<State = Record<string, unknown>>(
  options: SequentialServerOptions<State> = {},
): SequentialServer<State> {
  return new SequentialServer(options);
}
