import { EventEmitter } from 'node:events';
import net, { type AddressInfo, type Socket } from 'node:net';
import { InvalidOptionError, errorReply, formatEndpoint } from '@comm/protocol';
import { ServerBusyError, ServerClosedError, listenDualStack, prepareSocket, refuseConnection, remotePeer, resolveServerOptions, serveConnection, type CloseReason, type ConnectionContext, type Conversation, type HandlerFailedError, type ServerConfig, type ServerOptions } from '@comm/server-core';

/** R16: how many clients may wait for their turn, by default. */
export const DEFAULT_MAX_WAITING = 128;

/** Options of the sequential server: where it listens, the handler, the limits, and the queue. */
export interface SequentialServerOptions<State = Record<string, unknown>> extends ServerOptions<State> {
  /**
   * R16: how many accepted clients may wait for their turn. One more gets
   * `ERR COMM_SERVER_BUSY ...` and is closed. `0` means nobody waits. Default 128.
   */
  maxWaiting?: number;
}

/** Who a client is, as the events tell it. */
export interface ClientInfo {
  /** Given in order of arrival, from 1. */
  readonly connectionId: number;
  /** Without the `::ffff:` prefix of IPv4-mapped addresses. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: string;
}

/** A client whose turn has begun: the `connection` event. */
export interface ConnectionInfo extends ClientInfo {
  /** `Connected by <address>:<port>`, the chapter's line. */
  readonly message: string;
}

/** A client accepted while another is served: the `waiting` event. */
export interface WaitingInfo extends ClientInfo {
  /** 1 for the next to be served. */
  readonly position: number;
}

/** A served client that has gone: the `disconnect` event. */
export interface DisconnectInfo extends ClientInfo {
  readonly reason: CloseReason;
  /** Lines received and answered (error lines and `BYE` included). */
  readonly linesIn: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** The socket error behind `reason: 'error'`. */
  readonly error: Error | undefined;
}

/** The events of a {@link SequentialServer} and their arguments. */
export interface SequentialServerEvents {
  /** The server is listening. */
  listening: [address: AddressInfo];
  /** A client's turn has begun (the chapter prints `Connected by ...` here). */
  connection: [info: ConnectionInfo];
  /** A client was accepted and waits, in arrival order. */
  waiting: [info: WaitingInfo];
  /** A client was turned away: `maxWaiting` clients were already waiting. */
  busy: [info: ClientInfo];
  /** A served client's connection has closed. */
  disconnect: [info: DisconnectInfo];
  /** A handler threw, rejected or gave no line; the client got `ERR COMM_HANDLER_FAILED ...`. */
  handlerError: [error: HandlerFailedError, context: ConnectionContext<never>];
  /** The listening socket failed after `listen()` resolved (e.g. EMFILE). Only emitted when listened to. */
  error: [error: Error];
  /** `close()` or `destroy()` has finished: nothing is open any more. */
  close: [];
}

function clientInfo(socket: Socket, connectionId: number): ClientInfo {
  return { connectionId, ...remotePeer(socket) };
}

function ignoreError(): void {}

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
  private readonly waitingSockets: Socket[] = [];
  private readonly waitingIds: number[] = [];
  private current: Conversation<State> | undefined = undefined;
  private lastConnectionId = 0;
  private listening = false;
  private closing = false;
  private closePromise: Promise<void> | undefined = undefined;

  constructor(options: SequentialServerOptions<State> = {}) {
    super();
    const maxWaiting = options.maxWaiting ?? DEFAULT_MAX_WAITING;
    if (!Number.isSafeInteger(maxWaiting) || maxWaiting < 0) {
      throw new InvalidOptionError(`maxWaiting must be a whole number >= 0, got ${String(maxWaiting)}`);
    }
    this.maxWaiting = maxWaiting;
    const userOnClose = options.onClose;
    const userOnHandlerError = options.onHandlerError;
    this.config = resolveServerOptions<State>(options, {
      onClose: (conversation) => {
        userOnClose?.(conversation);
        this.served(conversation);
      },
      onHandlerError: (error, context) => {
        userOnHandlerError?.(error, context);
        this.emit('handlerError', error, context as unknown as ConnectionContext<never>);
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
    return this.waitingSockets.length;
  }

  /** The client being served, if any. */
  get serving(): ConnectionContext<State> | undefined {
    return this.current;
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
    for (const socket of this.waitingSockets.splice(0)) refuseConnection(socket, undefined, lingerTimeout);
    this.waitingIds.length = 0;
    void this.current?.close();
    return this.closePromise;
  }

  /** Closes everything now, without answering; replies not yet flushed are lost. */
  destroy(): void {
    const closing = this.close();
    for (const socket of this.waitingSockets.splice(0)) socket.destroy();
    this.current?.destroy();
    void closing;
  }

  private accept(socket: Socket): void {
    const connectionId = ++this.lastConnectionId;
    if (this.closing) {
      refuseConnection(socket, undefined, this.config.conversation.lingerTimeout);
      return;
    }
    prepareSocket(socket, this.config.listen);
    if (this.current === undefined) {
      this.serve(socket, connectionId);
      return;
    }
    if (this.waitingSockets.length >= this.maxWaiting) {
      // R16: the queue is full; one line says why, then the connection closes.
      this.emit('busy', clientInfo(socket, connectionId));
      refuseConnection(socket, errorReply(new ServerBusyError()), this.config.conversation.lingerTimeout);
      return;
    }
    socket.on('error', ignoreError);
    this.waitingSockets.push(socket);
    this.waitingIds.push(connectionId);
    if (this.listenerCount('waiting') > 0) {
      this.emit('waiting', { ...clientInfo(socket, connectionId), position: this.waitingSockets.length });
    }
  }

  private serve(socket: Socket, connectionId: number): void {
    socket.off('error', ignoreError);
    const conversation = serveConnection(socket, this.config.conversation, connectionId);
    this.current = conversation;
    const info = clientInfo(socket, connectionId);
    this.emit('connection', {
      ...info,
      message: `Connected by ${formatEndpoint(info.remoteAddress, info.remotePort)}`,
    });
  }

  private served(conversation: Conversation<State>): void {
    if (this.listenerCount('disconnect') > 0) {
      this.emit('disconnect', {
        connectionId: conversation.connectionId,
        remoteAddress: conversation.remoteAddress,
        remotePort: conversation.remotePort,
        remoteFamily: conversation.remoteFamily,
        reason: conversation.closeReason ?? 'destroyed',
        linesIn: conversation.linesIn,
        bytesIn: conversation.bytesIn,
        bytesOut: conversation.bytesOut,
        error: conversation.error,
      });
    }
    if (this.current !== conversation) return;
    this.current = undefined;
    if (this.closing) return;
    const socket = this.waitingSockets.shift();
    const connectionId = this.waitingIds.shift();
    if (socket !== undefined && connectionId !== undefined) this.serve(socket, connectionId);
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
