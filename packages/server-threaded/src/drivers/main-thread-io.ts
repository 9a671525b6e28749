import type { AddressInfo, Socket } from 'node:net';
import {
  ConnectionTally,
  NO_COUNTS,
  conversationConfig,
  conversationLimits,
  disconnectInfo,
  prepareSocket,
  serveConnection,
  type ConnectionContext,
  type ConnectionCounts,
  type Conversation,
  type ConversationConfig,
  type HandlerFailedError,
  type ProxyInfo,
} from '@comm/server-core';
import { deserializeError, WorkerFailedError } from '../errors.js';
import { assertNever } from '../exhaustive.js';
import { connectionInfo, type DriverMessage, type PeerInfo } from '../messages.js';
import type { WorkerSlot } from '../pool.js';
import { MainThreadAcceptor } from './accept.js';
import { reportWorkerHandlerError, type Driver, type DriverHost } from './driver.js';

/** One connection served here: its socket on this thread, its handler state on `slot`'s worker. */
interface RemoteRecord {
  readonly slot: WorkerSlot;
  /** The worker that holds the state; a replacement in the same slot does not. */
  readonly worker: WorkerSlot['worker'];
  readonly tally: ConnectionTally;
  conversation: Conversation | undefined;
  /** The batch or setup waiting for the worker's answer (at most one: the conversation waits). */
  pending: { resolve: (value: never) => void; reject: (error: Error) => void } | undefined;
}

/**
 * The batches of one worker waiting to be sent. Every read of one turn of the event loop goes in
 * one message, not one message per connection: thousands of clients writing at once cost a few
 * messages instead of thousands of queued ones (memory) and as many wake-ups (time).
 */
interface Outbox {
  /** The worker the batches were asked of; a replacement in the slot does not get them. */
  readonly worker: WorkerSlot['worker'];
  readonly connectionIds: number[];
  readonly lines: string[][];
}

/**
 * `main-thread-io`: this thread accepts, reads, frames and writes; the lines of each read go to
 * the connection's worker, which calls the handler, and the replies come back. Only the handler
 * calls run on the workers, so this scales handler work, not I/O.
 */
export class MainThreadIoDriver implements Driver {
  readonly mechanism = 'main-thread-io';
  private readonly acceptor: MainThreadAcceptor;
  private readonly remote = new Map<number, RemoteRecord>();
  /** Per slot; a replacement worker starts a new one. */
  private readonly tallies: ConnectionTally[];
  private readonly outboxes = new Map<WorkerSlot, Outbox>();
  private outboxFlushScheduled = false;
  /** Echo (no handler module) keeps nothing per connection on the workers: no message, no context. */
  private readonly workersKeepState: boolean;
  private config: ConversationConfig | undefined = undefined;

  constructor(private readonly host: DriverHost) {
    this.acceptor = new MainThreadAcceptor(host, (socket, peer, slot, { proxy }) => this.serve(socket, peer, slot, proxy), true);
    this.tallies = host.pool.slots.map(() => new ConnectionTally());
    this.workersKeepState = host.handlerUrl !== undefined;
  }

  listen(): Promise<AddressInfo> {
    const hasSetup = this.host.pool.slots.some((slot) => slot.hasSetup);
    this.config = conversationConfig({
      ...conversationLimits(this.host.config.conversation),
      answerBatch: (lines, context) => this.askWorker<readonly string[]>(context.connectionId, lines),
      setup: hasSetup ? (context) => this.askWorker<void>(context.connectionId, undefined) : undefined,
      onClose: (conversation) => this.closed(conversation),
      onHandlerError: (error, context) => this.handlerFailed(error, context),
    });
    return this.acceptor.listen();
  }

  message(slot: WorkerSlot, message: DriverMessage): void {
    switch (message.type) {
      case 'replies':
        for (let i = 0; i < message.connectionIds.length; i++) {
          this.settle(message.connectionIds[i] as number, { value: message.replies[i] });
        }
        return;
      case 'opened':
        this.settle(
          message.connectionId,
          message.error === undefined ? { value: undefined } : { error: deserializeError(message.error) },
        );
        return;
      case 'handler-error':
        reportWorkerHandlerError(this.host, slot, message);
        return;
      case 'drained':
        // The answer to `shutdown`, taken by the pool's drain.
        return;
      case 'connection':
      case 'closed':
      case 'listening':
      case 'listen-failed':
        // `transfer` and `reuse-port` only: these workers hold no socket.
        return;
      default:
        assertNever(message, 'worker message');
    }
  }

  workerUp(slot: WorkerSlot): Promise<boolean> {
    this.tallies[slot.index] = new ConnectionTally();
    this.acceptor.assignWaiting();
    return Promise.resolve(true);
  }

  /**
   * The connections' handler state died with the thread: what is in flight is answered
   * ERR COMM_HANDLER_FAILED, then they are closed. Other threads' connections do not notice.
   */
  workerDown(slot: WorkerSlot, error: WorkerFailedError): void {
    for (const [connectionId, record] of this.remote) {
      if (record.slot !== slot) continue;
      void record.conversation?.close();
      this.settle(connectionId, { error });
    }
  }

  counts(slot: WorkerSlot): ConnectionCounts {
    return this.tallies[slot.index]?.counts() ?? NO_COUNTS;
  }

  stopAccepting(): Promise<void> {
    return this.acceptor.stop();
  }

  async closeConnections(): Promise<void> {
    await Promise.all([...this.remote.values()].map((record) => record.conversation?.close()));
  }

  /** This thread counted the connections; the workers had none. */
  finalCounts(_drained: readonly ConnectionCounts[]): readonly ConnectionCounts[] {
    return this.host.pool.slots.map((slot) => this.counts(slot));
  }

  destroy(): void {
    this.acceptor.destroy();
    for (const record of this.remote.values()) record.conversation?.destroy();
  }

  private serve(socket: Socket, peer: PeerInfo, slot: WorkerSlot, proxy: ProxyInfo | undefined): boolean {
    prepareSocket(socket, this.host.config.listen);
    const tally = this.tallies[slot.index] as ConnectionTally;
    const record: RemoteRecord = { slot, worker: slot.worker, tally, conversation: undefined, pending: undefined };
    this.remote.set(peer.connectionId, record);
    if (this.workersKeepState) slot.post({ type: 'open', peer, proxy });
    const conversation = serveConnection(socket, this.config as ConversationConfig, {
      connectionId: peer.connectionId,
      peer,
      proxy,
    });
    record.conversation = conversation;
    tally.opened(conversation as Conversation<never>);
    return true;
  }

  /** Sends a batch (or, with no lines, waits for `setup`'s answer) and resolves with the worker's reply. */
  private askWorker<T>(connectionId: number, lines: string[] | undefined): Promise<T> {
    const record = this.remote.get(connectionId);
    if (record === undefined || record.slot.state !== 'ready' || record.slot.worker !== record.worker) {
      return Promise.reject(new WorkerFailedError(record?.slot.index ?? -1, 'the thread of this connection is gone'));
    }
    return new Promise<T>((resolve, reject) => {
      record.pending = { resolve: resolve as (value: never) => void, reject };
      if (lines !== undefined) this.queueBatch(record, connectionId, lines);
    });
  }

  private queueBatch(record: RemoteRecord, connectionId: number, lines: string[]): void {
    let outbox = this.outboxes.get(record.slot);
    if (outbox === undefined || outbox.worker !== record.worker) {
      outbox = { worker: record.worker, connectionIds: [], lines: [] };
      this.outboxes.set(record.slot, outbox);
    }
    outbox.connectionIds.push(connectionId);
    outbox.lines.push(lines);
    if (this.outboxFlushScheduled) return;
    this.outboxFlushScheduled = true;
    // After the poll phase: every socket read in this turn has added its batch by then.
    setImmediate(() => {
      this.outboxFlushScheduled = false;
      for (const slot of [...this.outboxes.keys()]) this.flushOutbox(slot);
    });
  }

  private flushOutbox(slot: WorkerSlot): void {
    const outbox = this.outboxes.get(slot);
    if (outbox === undefined) return;
    this.outboxes.delete(slot);
    // Batches asked of a worker that has died since were answered with its failure (workerDown).
    if (slot.worker !== outbox.worker || slot.state !== 'ready') return;
    slot.post({ type: 'batches', connectionIds: outbox.connectionIds, lines: outbox.lines });
  }

  private settle(connectionId: number, outcome: { value: unknown } | { error: Error }): void {
    const record = this.remote.get(connectionId);
    const pending = record?.pending;
    if (record === undefined || pending === undefined) return;
    record.pending = undefined;
    if ('error' in outcome) pending.reject(outcome.error);
    else pending.resolve(outcome.value as never);
  }

  private closed(conversation: Conversation): void {
    const record = this.remote.get(conversation.connectionId);
    if (record === undefined) return;
    this.remote.delete(conversation.connectionId);
    record.tally.closed(conversation as Conversation<never>);
    if (this.host.listens('disconnect')) {
      this.host.disconnected(disconnectInfo(conversation as Conversation<never>, { thread: record.slot.index }));
    }
    if (record.slot.worker === record.worker && record.worker !== undefined) {
      record.slot.load -= 1;
      if (this.workersKeepState) {
        // A batch of this connection still waiting to go is answered with its state, then forgotten.
        this.flushOutbox(record.slot);
        record.slot.post({ type: 'forget', connectionId: conversation.connectionId });
      }
    }
  }

  private handlerFailed(error: HandlerFailedError, context: ConnectionContext): void {
    const thread = this.remote.get(context.connectionId)?.slot.index ?? -1;
    this.host.handlerFailed(error, { ...connectionInfo(context), thread });
  }
}
