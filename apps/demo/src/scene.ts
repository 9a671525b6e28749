import { connect, type CommClient } from '@comm/client';
import { sleep, within } from './bounded.js';
import type { Announcement, DemoServer } from './servers.js';
import type { Timeline, TimelineEvent } from './timeline.js';

/** The non-ASCII line of the scene: 2-, 3- and 4-byte UTF-8 characters. */
const UNICODE_LINE = 'héllo wörld — 你好 🌍';

/** How long any one step of the scene may take before the demo gives up on it. */
export const STEP_TIMEOUT_MS = 15_000;

/**
 * How long A keeps talking once B and C are in: long enough that B's and C's wait on the
 * sequential server shows in the times, short enough that the demo stays quick.
 */
const A_KEEPS_TALKING_MS = 500;

/** A promise that can be settled from outside, for "wait until the server says so". */
class Signal<T = void> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;

  constructor() {
    this.promise = new Promise<T>((resolve) => {
      this.resolve = resolve;
    });
  }
}

/** One of the scene's clients: a {@link CommClient} with a name, and what the server said of it. */
class Actor {
  /** The thread that serves this client, once the server has said. */
  thread: string | undefined;
  /** Settles at the server's first word on this client: served, or waiting in line. */
  readonly announced = new Signal();
  /** Settles when the server says which thread serves this client. */
  readonly served = new Signal();
  /** Settles when this client has its first reply, or the server says it waits in line. */
  readonly answeredOrWaiting = new Signal();
  /** The reply to the client's first line, sent as soon as it is connected. */
  greeted: Promise<string> = Promise.resolve('');

  constructor(
    readonly name: string,
    readonly label: string,
    readonly family: 'IPv4' | 'IPv6',
    private readonly client: CommClient,
    private readonly record: (event: Omit<TimelineEvent, 'server'>) => void,
  ) {}

  /** Sends one line, records it, and records its reply when it comes. */
  async say(line: string): Promise<string> {
    this.record({ client: this.label, kind: 'sent', text: line });
    // request('BYE') ends the conversation as R10 says and resolves with the server's BYE.
    const reply = await this.client.request(line, { timeout: STEP_TIMEOUT_MS });
    // With reuse-port a worker accepts and tells the main thread by message, which may come
    // after the reply itself: wait for it, so that every reply row names its thread.
    if (this.thread === undefined) {
      await within(this.served.promise, STEP_TIMEOUT_MS, `the server to say which thread serves ${this.name}`);
    }
    this.record({ client: this.label, kind: 'received', text: reply, thread: this.thread });
    this.answeredOrWaiting.resolve();
    return reply;
  }

  destroy(): void {
    this.client.destroy();
  }
}

/** Where a client connects: IPv4 loopback, or IPv6 loopback for the one that shows IPv6. */
const IPV4_LOOPBACK = '127.0.0.1';
const IPV6_LOOPBACK = '::1';

/**
 * Plays the scene against one server: A connects and talks; B (over IPv6) and C connect while
 * A is still talking and say hello; A goes on until B and C are answered or the server says
 * they wait in line, then says a non-ASCII line and BYE; B and C finish their own scripts.
 * Every row goes to `timeline` as it happens; every step is bounded by {@link STEP_TIMEOUT_MS}.
 *
 * On the sequential server B and C get no reply before A has said BYE (R16); on the threaded
 * server they are answered at once, each by its thread.
 */
export async function playScene(server: DemoServer, timeline: Timeline): Promise<void> {
  const record = (event: Omit<TimelineEvent, 'server'>): void => {
    timeline.record({ server: server.kind, ...event });
  };
  const actors: Actor[] = [];
  // The server speaks of connections by id; the scene connects one client at a time and waits
  // for the server's word on it before the next, so the first word on a new id is the oldest
  // client not yet announced.
  // The server may speak before the client's connect() has resolved: such a word is kept for
  // the client that is joining.
  const unannounced: Actor[] = [];
  const early: Announcement[] = [];
  const byConnectionId = new Map<number, Actor>();
  const attribute = (actor: Actor, announcement: Announcement): void => {
    byConnectionId.set(announcement.connectionId, actor);
    describe(actor, announcement, record);
  };
  server.onAnnouncement((announcement) => {
    const actor = byConnectionId.get(announcement.connectionId) ?? unannounced.shift();
    if (actor === undefined) early.push(announcement);
    else attribute(actor, announcement);
  });

  const join = async (name: string, host: string): Promise<Actor> => {
    const client = await within(
      connect(host, server.address.port, { connectTimeout: STEP_TIMEOUT_MS }),
      STEP_TIMEOUT_MS,
      `${name} to connect`,
    );
    const family = host.includes(':') ? 'IPv6' : 'IPv4';
    const actor = new Actor(name, `${name} ${host}`, family, client, record);
    actors.push(actor);
    record({ client: actor.label, kind: 'connect', text: `connected (${family})` });
    actor.greeted = actor.say(`hello from ${name} over ${family}`);
    // Not awaited here: on the sequential server B's and C's greetings wait for their turn.
    actor.greeted.catch(() => undefined);
    const announcement = early.shift();
    if (announcement === undefined) unannounced.push(actor);
    else attribute(actor, announcement);
    return actor;
  };
  const announced = (actor: Actor): Promise<void> =>
    within(actor.announced.promise, STEP_TIMEOUT_MS, `the ${server.kind} server to take ${actor.name}`);

  try {
    const a = await join('A', IPV4_LOOPBACK);
    await announced(a);
    await a.greeted;

    const b = await joinOverIpv6('B', join, record);
    await announced(b);
    const c = await join('C', IPV4_LOOPBACK);
    await announced(c);
    // B's and C's scripts go on by themselves, each at its own pace.
    const bDone = b.greeted.then(() => b.say(UNICODE_LINE)).then(() => b.say('BYE'));
    const cDone = c.greeted.then(() => c.say('BYE'));
    bDone.catch(() => undefined);
    cDone.catch(() => undefined);

    await within(
      Promise.all([b.answeredOrWaiting.promise, c.answeredOrWaiting.promise]),
      STEP_TIMEOUT_MS,
      'B and C to be answered or to wait in line',
    );
    await sleep(A_KEEPS_TALKING_MS);
    await a.say(UNICODE_LINE);
    await a.say('BYE');
    await within(Promise.all([bDone, cDone]), 2 * STEP_TIMEOUT_MS, 'B and C to finish');
  } finally {
    for (const actor of actors) actor.destroy();
  }
}

/** B shows IPv6: it connects to ::1, or, where this host has no IPv6, says so and uses IPv4. */
async function joinOverIpv6(
  name: string,
  join: (name: string, host: string) => Promise<Actor>,
  record: (event: Omit<TimelineEvent, 'server'>) => void,
): Promise<Actor> {
  try {
    return await join(name, IPV6_LOOPBACK);
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).message;
    record({ client: `${name} ${IPV6_LOOPBACK}`, kind: 'note', text: `no IPv6 here (${code}): ${name} uses IPv4 instead` });
    return join(name, IPV4_LOOPBACK);
  }
}

function describe(actor: Actor, announcement: Announcement, record: (event: Omit<TimelineEvent, 'server'>) => void): void {
  if (announcement.type === 'served') {
    actor.thread = announcement.thread;
    record({ client: actor.label, kind: 'served', text: `server: ${announcement.message}`, thread: actor.thread });
    actor.served.resolve();
  } else {
    const position = announcement.position === 1 ? 'next' : `number ${announcement.position}`;
    record({ client: actor.label, kind: 'waiting', text: `server: waits in line (${position}), unread` });
    actor.answeredOrWaiting.resolve();
  }
  actor.announced.resolve();
}
