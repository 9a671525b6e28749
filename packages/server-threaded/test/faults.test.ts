import { readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type WorkerExitInfo, type WorkerFailedError } from '../dist/index.js';
import {
  MECHANISMS,
  PROBE_HANDLER,
  ask,
  closedCleanly,
  connectClient,
  eventWithin,
  exchange,
  fixture,
  startServer,
  stopAll,
  type TestClient,
} from './helpers.js';

afterEach(stopAll);

/** Connects clients until one is served by a thread other than `avoid`'s (the kernel picks with reuse-port). */
async function clientOnAnotherThread(port: number, avoid: string): Promise<TestClient> {
  for (let i = 0; i < 64; i++) {
    const client = await connectClient(port);
    if ((await ask(client, 'thread')) !== avoid) return client;
  }
  throw new Error('64 clients in a row landed on one thread');
}

describe.each(MECHANISMS)('worker faults, mechanism %s', (mechanism) => {
  it('a worker that dies closes its connections, answering the line in flight; other threads do not notice; it is replaced', async () => {
    const { port, server } = await startServer({ mechanism, handler: PROBE_HANDLER, threads: 2 });
    const victim = await connectClient(port);
    const victimThread = await ask(victim, 'thread');
    const bystander = await clientOnAnotherThread(port, victimThread);
    expect(await ask(bystander, 'before')).toBe('before');

    const exited = eventWithin<[WorkerFailedError, WorkerExitInfo]>(server, 'workerExit');
    const started = eventWithin<[{ thread: number; restarts: number }]>(server, 'workerStart');
    await victim.write('crash\n');
    const [error, info] = await exited;
    expect(error.code).toBe('COMM_WORKER_FAILED');
    expect((error.cause as Error).message).toBe('crash on purpose');
    expect(info.connectionsClosed).toBeGreaterThanOrEqual(1);
    // The line waiting for its reply is answered with the handler error, then a clean close.
    expect(await closedCleanly(victim)).toBe(true);
    expect(victim.lines()).toEqual([victimThread, 'ERR COMM_HANDLER_FAILED handler failed']);

    // The other thread's client goes on, with its state, as if nothing happened.
    expect(await ask(bystander, 'after')).toBe('after');
    expect(await ask(bystander, 'count')).toBe('4');

    const [{ thread, restarts }] = await started;
    expect(thread).toBe(info.thread);
    expect(restarts).toBe(1);
    const stats = await server.stats();
    expect(stats.threads[info.thread]?.restarts).toBe(1);
    expect(stats.threads[info.thread]?.threadId).not.toBe(Number(victimThread));
    // New clients are served, on the replacement too.
    const seen = new Set<string>();
    for (let i = 0; i < 32 && seen.size < 2; i++) seen.add(await ask(await connectClient(port), 'thread'));
    expect(seen.size).toBe(2);
  });

  it('a handler that calls process.exit() ends only its own thread, which is replaced', async () => {
    const { port, server } = await startServer({ mechanism, handler: PROBE_HANDLER, threads: 2 });
    const victim = await connectClient(port);
    const victimThread = await ask(victim, 'thread');
    const bystander = await clientOnAnotherThread(port, victimThread);
    const exited = eventWithin<[WorkerFailedError, WorkerExitInfo]>(server, 'workerExit');
    const started = eventWithin(server, 'workerStart');
    await victim.write('exit\n');
    const [error] = await exited;
    expect(error.message).toMatch(/exited with code 7/);
    await closedCleanly(victim);
    // With main-thread-io the socket is on the main thread, which answers the line in flight;
    // otherwise the thread took the socket with it and the client only sees the close.
    const expected = mechanism === 'main-thread-io' ? [victimThread, 'ERR COMM_HANDLER_FAILED handler failed'] : [victimThread];
    expect(victim.lines()).toEqual(expected);
    expect(await ask(bystander, 'still here')).toBe('still here');
    await started;
    expect(await exchange(port, 'new client\n')).toBe('new client\n');
  });

  it('listen() rejects with COMM_ADDRESS_IN_USE when the port is taken, even by a reusePort listener', async () => {
    // A holder with reusePort would silently share the port with reuse-port workers, were it not checked.
    const holders = MECHANISMS.includes('reuse-port') ? [false, true] : [false];
    for (const reusePort of holders) {
      const holder = net.createServer();
      await new Promise<void>((resolve) =>
        holder.listen({ port: 0, host: '127.0.0.1', reusePort } as net.ListenOptions, resolve),
      );
      const { port } = holder.address() as net.AddressInfo;
      try {
        const server = createServer({ mechanism, host: '127.0.0.1', port, threads: 1 });
        await expect(server.listen()).rejects.toMatchObject({ code: 'COMM_ADDRESS_IN_USE' });
        await server.close();
      } finally {
        holder.close();
      }
    }
  });
});

describe('a handler module that cannot be loaded', () => {
  it('missing: listen() rejects with COMM_HANDLER_LOAD_FAILED, the import error as cause', async () => {
    const server = createServer({ port: 0, threads: 2, handler: fixture('does-not-exist.mjs') });
    const error = await server.listen().then(
      () => undefined,
      (failure: unknown) => failure as Error & { code: string; cause: { code: string } },
    );
    expect(error?.code).toBe('COMM_HANDLER_LOAD_FAILED');
    expect(error?.cause.code).toBe('ERR_MODULE_NOT_FOUND');
    expect(server.address()).toBeNull();
    await server.close();
  });

  it('a syntax error: listen() rejects with the SyntaxError as cause', async () => {
    const server = createServer({ port: 0, threads: 1, handler: fixture('syntax-error.mjs') });
    await expect(server.listen()).rejects.toMatchObject({ code: 'COMM_HANDLER_LOAD_FAILED', cause: { name: 'SyntaxError' } });
    await server.close();
  });

  it('no handler export: listen() rejects and says what is missing', async () => {
    const server = createServer({ port: 0, threads: 1, handler: fixture('no-handler.mjs') });
    await expect(server.listen()).rejects.toThrow(/must export a function named handler/);
    await server.close();
  });

  it('throws while loading: listen() rejects, and no thread loads it again', async () => {
    const log = join(tmpdir(), `comm-load-log-${process.pid}-${Date.now()}`);
    process.env.COMM_TEST_LOAD_LOG = log;
    try {
      const server = createServer({ port: 0, threads: 3, handler: fixture('throws-on-load.mjs') });
      let exits = 0;
      server.on('workerExit', () => (exits += 1));
      await expect(server.listen()).rejects.toMatchObject({
        code: 'COMM_HANDLER_LOAD_FAILED',
        cause: { message: 'this module refuses to load' },
      });
      // The first failure stops the other threads, perhaps before they load it.
      const loads = (): number => readFileSync(log, 'utf8').split('\n').length - 1;
      const loadsAtReject = loads();
      expect(loadsAtReject).toBeGreaterThanOrEqual(1);
      expect(loadsAtReject).toBeLessThanOrEqual(3);
      // A restart loop would load it again within its first backoff step (50 ms); give it ten.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(loads()).toBe(loadsAtReject);
      expect(exits).toBe(0);
      await server.close();
    } finally {
      delete process.env.COMM_TEST_LOAD_LOG;
      rmSync(log, { force: true });
    }
  });
});

describe('handler module forms and options', () => {
  it('a CommonJS module (module.exports.handler) and a file: URL both work', async () => {
    const { port } = await startServer({ handler: pathToFileURL(fixture('commonjs-handler.cjs')) });
    expect(await exchange(port, 'a\nb\n')).toBe('cjs:a\ncjs:b\n');
  });

  it('a data: URL works too', async () => {
    const source = 'export const handler = (line) => line.split("").reverse().join("");';
    const { port } = await startServer({ handler: `data:text/javascript,${encodeURIComponent(source)}` });
    expect(await exchange(port, 'abc\n')).toBe('cba\n');
  });

  it('bad options throw COMM_INVALID_OPTION at once, the shared ones through the shared checks', () => {
    expect(() => createServer({ threads: 0 })).toThrow(expect.objectContaining({ code: 'COMM_INVALID_OPTION' }));
    expect(() => createServer({ threads: 1.5 })).toThrow(/threads/);
    expect(() => createServer({ mechanism: 'fork' as never })).toThrow(/mechanism/);
    expect(() => createServer({ handler: 'some-package' })).toThrow(/package names are not resolved/);
    expect(() => createServer({ maxLineLength: 0 })).toThrow(/maxLineLength/);
    expect(() => createServer({ port: 70000 })).toThrow(/port/);
  });

  const unavailable = (['transfer', 'reuse-port'] as const).filter((name) => !MECHANISMS.includes(name));
  it.skipIf(unavailable.length === 0)(
    'forcing a mechanism this runtime lacks rejects with COMM_MECHANISM_UNAVAILABLE',
    async () => {
      for (const mechanism of unavailable) {
        const server = createServer({ port: 0, threads: 1, mechanism });
        await expect(server.listen()).rejects.toMatchObject({ code: 'COMM_MECHANISM_UNAVAILABLE', mechanism });
        await server.close();
      }
    },
  );
});
