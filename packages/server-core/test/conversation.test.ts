import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import {
  conversationConfig,
  serveConnection,
  type Conversation,
  type ConversationOptions,
  type HandlerFailedError,
} from '../src/index.js';
import { connectClient, destroyClients, exchange, gatedHandler, settle } from '@comm/test-helpers';

const servers: net.Server[] = [];
const conversations: Conversation<never>[] = [];

/** A plain `net` server (not half-open: `serveConnection` must see to that) serving each socket. */
async function startServer<State = Record<string, unknown>>(
  options: ConversationOptions<State> = {},
  host = '127.0.0.1',
): Promise<{ port: number; served: Conversation<State>[] }> {
  const config = conversationConfig(options);
  const served: Conversation<State>[] = [];
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    const conversation = serveConnection(socket, config);
    served.push(conversation);
    conversations.push(conversation as unknown as Conversation<never>);
  });
  servers.push(server);
  server.listen(0, host);
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, served };
}

afterEach(async () => {
  destroyClients();
  for (const conversation of conversations.splice(0)) conversation.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('conversation: lines and replies', () => {
  it('R9: echoes every line by default, in order, to a pipelining client', async () => {
    const { port } = await startServer();
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    const text = await exchange(port, lines.join('\n') + '\n');
    expect(text).toBe(lines.join('\n') + '\n');
  });

  it('R9: all the replies to the lines of one read go out in one write', async () => {
    let reads = 0;
    let writes = 0;
    const server = net.createServer({ pauseOnConnect: true }, (socket) => {
      const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
      socket.write = ((...args: unknown[]) => {
        if (args[0] !== '') writes += 1;
        return write(...args);
      }) as typeof socket.write;
      socket.on('data', () => (reads += 1));
      conversations.push(serveConnection(socket) as unknown as Conversation<never>);
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = await connectClient((server.address() as net.AddressInfo).port);
    const batch = Array.from({ length: 100 }, (_, i) => `l${i}`);
    await client.write(batch.join('\n') + '\n');
    expect(await client.waitForLines(100)).toEqual(batch);
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThanOrEqual(reads);
  });

  it('R3: CRLF ends a line and the CR is dropped', async () => {
    const { port } = await startServer();
    expect(await exchange(port, 'a\r\nb\r\n')).toBe('a\nb\n');
  });

  it('R4: a lone CR, U+2028, U+2029 and U+0085 are data, echoed as they came', async () => {
    const { port } = await startServer();
    const line = 'a\rb\u2028c\u2029d\u0085e';
    expect(await exchange(port, `${line}\n`)).toBe(`${line}\n`);
  });

  it('R5: an empty line gets an empty reply', async () => {
    const { port } = await startServer();
    expect(await exchange(port, '\n\nx\n\n')).toBe('\n\nx\n\n');
  });

  it('R6: a BOM at the start of the stream is dropped; later it is data', async () => {
    const { port } = await startServer();
    expect(await exchange(port, '\uFEFFfirst\n\uFEFFsecond\n')).toBe('first\n\uFEFFsecond\n');
  });

  it('R7: a line over the limit gets one error reply in its place, and the lines around it are answered', async () => {
    const { port } = await startServer({ maxLineLength: 8 });
    const text = await exchange(port, `before\n${'y'.repeat(100)}\n12345678\nafter\n`);
    expect(text.split('\n')).toEqual([
      'before',
      'ERR COMM_LINE_TOO_LONG line too long: more than 8 bytes',
      '12345678',
      'after',
      '',
    ]);
  });

  it('R8: a line with invalid UTF-8 gets ERR COMM_INVALID_UTF8 and the conversation goes on', async () => {
    const { port } = await startServer();
    const payload = Buffer.concat([Buffer.from('ok\n'), Buffer.from([0xc3, 0x28, 0x0a]), Buffer.from('next\n')]);
    expect((await exchange(port, payload)).split('\n')).toEqual([
      'ok',
      'ERR COMM_INVALID_UTF8 invalid utf-8 in line',
      'next',
      '',
    ]);
  });

  it("R8: with invalidUtf8 'replace' each bad sequence becomes U+FFFD", async () => {
    const { port } = await startServer({ invalidUtf8: 'replace' });
    const payload = Buffer.from([0x61, 0xff, 0x62, 0x0a]);
    expect(await exchange(port, payload)).toBe('a\uFFFDb\n');
  });

  it('R12: an echo server echoes a line that starts with ERR like any other', async () => {
    const { port } = await startServer();
    expect(await exchange(port, 'ERR COMM_LINE_TOO_LONG not really\n')).toBe('ERR COMM_LINE_TOO_LONG not really\n');
  });

  it('R9: a line whose last character is a CR (data) cannot be echoed and gets an error reply', async () => {
    const { port } = await startServer();
    const text = await exchange(port, 'a\r\r\nb\n');
    expect(text).toBe('ERR COMM_HANDLER_FAILED handler failed\nb\n');
  });
});

describe('conversation: the echo fast path', () => {
  it('R10, R3, R7, R8: after the first read, BYE, CR, too long lines and invalid UTF-8 still take the careful path', async () => {
    const { port } = await startServer({ maxLineLength: 8 });
    const client = await connectClient(port);
    const steps: [string | Buffer, string[]][] = [
      ['warm\n', ['warm']],
      ['a\r\nb\n', ['a', 'b']],
      ['12345678\n123456789\n', ['12345678', 'ERR COMM_LINE_TOO_LONG line too long: more than 8 bytes']],
      [Buffer.from([0x78, 0xfe, 0x0a]), ['ERR COMM_INVALID_UTF8 invalid utf-8 in line']],
      ['spl', []],
      ['it\nnext\nhal', ['split', 'next']],
      ['f\n', ['half']],
      ['x\nBYE\ny\n', ['x', 'BYE']],
    ];
    const expected: string[] = [];
    for (const [bytes, replies] of steps) {
      await client.write(bytes);
      expected.push(...replies);
      expect(await client.waitForLines(expected.length)).toEqual(expected);
    }
    await client.closed;
    expect(client.lines()).toEqual(expected);
  });

  it('R9: echo answers any byte stream, in any pieces, exactly as a handler returning the line does', async () => {
    const fast = await startServer({ maxLineLength: 16 });
    const careful = await startServer({ maxLineLength: 16, handler: (line) => line });
    // A fixed-seed generator: the same cases on every run.
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = [
      Buffer.from('a'),
      Buffer.from('é'),
      Buffer.from('\n'),
      Buffer.from('\r'),
      Buffer.from('BYE'),
      Buffer.from([0xff]),
      Buffer.from('\uFEFF'),
      Buffer.from('xxxxxxxxxx'),
    ];
    for (let round = 0; round < 12; round++) {
      const parts: Buffer[] = [];
      for (let i = 0; i < 200; i++) parts.push(alphabet[random(alphabet.length)] as Buffer);
      const stream = Buffer.concat(parts);
      // Half the cuts fall just after an LF, where the fast path may take the next read.
      const cuts = Array.from({ length: 10 }, () => {
        const at = random(stream.length);
        return random(2) === 0 ? at : stream.indexOf(0x0a, at) + 1 || at;
      }).sort((a, b) => a - b);
      const answers = await Promise.all(
        [fast.port, careful.port].map(async (port) => {
          const client = await connectClient(port);
          let from = 0;
          for (const cut of [...cuts, stream.length]) {
            await client.write(stream.subarray(from, cut));
            await settle(2);
            from = cut;
          }
          client.socket.end();
          await client.closed;
          return client.text();
        }),
      );
      expect(answers[0]).toBe(answers[1]);
    }
  });
});

describe('conversation: BYE and the end of input', () => {
  it('R10: BYE answers the lines before it, answers BYE, closes, and drops what follows', async () => {
    const seen: string[] = [];
    const { port, served } = await startServer({
      handler: (line) => {
        seen.push(line);
        return line.toUpperCase();
      },
    });
    const client = await connectClient(port);
    await client.write('one\ntwo\nBYE\nthree\n');
    await client.closed;
    expect(client.text()).toBe('ONE\nTWO\nBYE\n');
    expect(seen).toEqual(['one', 'two']);
    expect(served[0]?.closeReason).toBe('bye');
  });

  it('R10: BYE is case-sensitive and taken after CRLF is removed', async () => {
    const { port } = await startServer();
    const client = await connectClient(port);
    await client.write('bye\nBYE \r\nBYE\r\n');
    await client.closed;
    expect(client.text()).toBe('bye\nBYE \nBYE\n');
  });

  it('R11: a final line without LF is answered after the client half-closes', async () => {
    const { port, served } = await startServer();
    expect(await exchange(port, 'hi')).toBe('hi\n');
    expect(served[0]?.closeReason).toBe('end');
  });

  it('R11: a client that half-closes after 10,000 lines gets every reply, then the server closes', async () => {
    const { port } = await startServer();
    const lines = Array.from({ length: 10_000 }, (_, i) => `request ${i}`);
    const text = await exchange(port, lines.join('\n') + '\nlast without LF');
    expect(text).toBe([...lines, 'last without LF'].join('\n') + '\n');
  });
});

describe('conversation: handlers', () => {
  it('R12: a handler that throws answers ERR COMM_HANDLER_FAILED and the conversation goes on', async () => {
    const errors: HandlerFailedError[] = [];
    const { port } = await startServer({
      handler: (line) => {
        if (line === 'boom') throw new Error('kaput');
        return `ok ${line}`;
      },
      onHandlerError: (error) => errors.push(error),
    });
    expect(await exchange(port, 'a\nboom\nb\n')).toBe('ok a\nERR COMM_HANDLER_FAILED handler failed\nok b\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.code).toBe('COMM_HANDLER_FAILED');
    expect((errors[0]?.cause as Error | undefined)?.message).toBe('kaput');
  });

  it('R12: a rejecting handler, a non-string reply and a reply with LF each get one error reply', async () => {
    const { port } = await startServer({
      handler: (line): string | Promise<string> => {
        if (line === 'reject') return Promise.reject(new Error('no'));
        if (line === 'number') return 42 as unknown as string;
        if (line === 'two lines') return 'a\nb';
        return Promise.resolve(line);
      },
    });
    expect(await exchange(port, 'x\nreject\nnumber\ntwo lines\ny\n')).toBe(
      'x\nERR COMM_HANDLER_FAILED handler failed\nERR COMM_HANDLER_FAILED handler failed\nERR COMM_HANDLER_FAILED handler failed\ny\n',
    );
  });

  it('R9: async handlers run one at a time per connection and their replies keep the order of the lines', async () => {
    let running = 0;
    let most = 0;
    const { port } = await startServer({
      handler: async (line) => {
        running += 1;
        most = Math.max(most, running);
        // Later lines finish sooner, so only serial calls keep the order.
        await new Promise((resolve) => setTimeout(resolve, 20 - Number(line)));
        running -= 1;
        return `r${line}`;
      },
    });
    const lines = Array.from({ length: 20 }, (_, i) => String(i));
    expect(await exchange(port, lines.join('\n') + '\n')).toBe(lines.map((l) => `r${l}`).join('\n') + '\n');
    expect(most).toBe(1);
  });

  it('answerBatch gets the lines of one read at once; decoder errors and BYE are answered in their places', async () => {
    const batches: string[][] = [];
    const { port } = await startServer({
      maxLineLength: 4,
      answerBatch: async (lines) => {
        batches.push(lines);
        return lines.map((line) => line.toUpperCase());
      },
    });
    const client = await connectClient(port);
    await client.write('ab\ntoolong\ncd\nBYE\nef\n');
    await client.closed;
    expect(client.text()).toBe('AB\nERR COMM_LINE_TOO_LONG line too long: more than 4 bytes\nCD\nBYE\n');
    expect(batches).toEqual([['ab', 'cd']]);
  });

  it('R12: an answerBatch that returns the wrong number of replies fails every line of that batch', async () => {
    const { port } = await startServer({ answerBatch: () => ['only one'] });
    const client = await connectClient(port);
    await client.write('a\nb\n');
    expect(await client.waitForLines(2)).toEqual([
      'ERR COMM_HANDLER_FAILED handler failed',
      'ERR COMM_HANDLER_FAILED handler failed',
    ]);
  });

  it('setup runs once per connection before the first line and can set the state; the context names the peer', async () => {
    const { port } = await startServer<{ count: number }>({
      setup: async (context) => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        context.state = { count: 100 };
      },
      handler: (line, context) =>
        `${context.remoteAddress} ${context.remoteFamily} #${context.connectionId} ${(context.state.count += 1)} ${line}`,
    });
    const text = await exchange(port, 'a\nb\n');
    expect(text).toMatch(/^127\.0\.0\.1 IPv4 #\d+ 101 a\n127\.0\.0\.1 IPv4 #\d+ 102 b\n$/);
  });

  it('R1: on a dual-stack listener an IPv4 client is seen without the ::ffff: prefix', async () => {
    const { port, served } = await startServer({ handler: (_line, context) => context.remoteAddress }, '::');
    expect(await exchange(port, 'who\n', '127.0.0.1')).toBe('127.0.0.1\n');
    expect(served[0]?.remoteFamily).toBe('IPv4');
    expect(await exchange(port, 'who\n', '::1')).toBe('::1\n');
    expect(served[1]?.remoteFamily).toBe('IPv6');
  });
});

describe('conversation: limits', () => {
  it('R13: a line not finished within lineTimeout gets ERR COMM_LINE_TIMEOUT after the lines before it, then the close', async () => {
    const { port, served } = await startServer({ lineTimeout: 200 });
    const client = await connectClient(port);
    await client.write('done\npart');
    await client.closed;
    expect(client.text()).toBe('done\nERR COMM_LINE_TIMEOUT line not finished within 200 ms\n');
    expect(served[0]?.closeReason).toBe('line-timeout');
  });

  it('R13: a sender of one byte at a time is cut off although bytes keep coming', async () => {
    const { port } = await startServer({ lineTimeout: 300, idleTimeout: 0 });
    const client = await connectClient(port);
    // At most 200 bytes, 20 ms apart: far longer than the deadline.
    for (let i = 0; i < 200 && !client.socket.destroyed && client.text() === ''; i++) {
      client.socket.write('z');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await client.closed;
    expect(client.text()).toBe('ERR COMM_LINE_TIMEOUT line not finished within 300 ms\n');
  });

  it('R14: a connection on which nothing arrives for idleTimeout is closed without a line', async () => {
    const { port, served } = await startServer({ idleTimeout: 200 });
    const client = await connectClient(port);
    await client.write('ping\n');
    expect(await client.waitForLines(1)).toEqual(['ping']);
    const { error } = await client.closed;
    expect(error).toBeUndefined();
    expect(client.text()).toBe('ping\n');
    expect(served[0]?.closeReason).toBe('idle-timeout');
  });

  it('R14: the idle clock does not run while a handler works on a reply', async () => {
    const gate = gatedHandler();
    const { port } = await startServer({ idleTimeout: 100, handler: gate.handler });
    const client = await connectClient(port);
    await client.write('slow\n');
    await gate.started;
    // Several idle periods pass while the handler works.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(client.socket.destroyed).toBe(false);
    gate.release();
    expect(await client.waitForLines(1)).toEqual(['SLOW']);
  });

  it('R13: the time a handler works does not count against the line that follows', async () => {
    const gate = gatedHandler();
    const { port } = await startServer({ lineTimeout: 200, handler: gate.handler });
    const client = await connectClient(port);
    await client.write('slow\npart');
    await gate.started;
    await new Promise((resolve) => setTimeout(resolve, 500));
    gate.release();
    expect(await client.waitForLines(1)).toEqual(['SLOW']);
    await client.write('ial\n');
    expect(await client.waitForLines(2)).toEqual(['SLOW', 'partial']);
  });

  it('R15: a client that sends without reading is not read past maxPendingReplyBytes; all its replies come once it reads', async () => {
    const maxPendingReplyBytes = 64 * 1024;
    const { port, served } = await startServer({ maxPendingReplyBytes, idleTimeout: 0 });
    const client = await connectClient(port, '127.0.0.1', { read: false });
    const line = 'p'.repeat(1023);
    const chunk = Buffer.from(`${line}\n`.repeat(64));
    let sent = 0;
    // Write until the socket stays blocked (the server stopped reading), bounded in bytes and time.
    const started = Date.now();
    while (sent < 256 * 1024 * 1024 && Date.now() - started < 20_000) {
      if (!client.socket.write(chunk)) {
        const drained = await Promise.race([
          once(client.socket, 'drain').then(() => true),
          new Promise((resolve) => setTimeout(() => resolve(false), 300)),
        ]);
        sent += chunk.length;
        if (!drained) break;
      } else {
        sent += chunk.length;
      }
    }
    const conversation = served[0] as Conversation;
    expect(conversation.bytesIn).toBeLessThan(sent);
    expect(conversation.socket.writableLength).toBeLessThanOrEqual(maxPendingReplyBytes + 128 * 1024);
    client.socket.end();
    client.socket.resume();
    const { error } = await client.closed;
    expect(error).toBeUndefined();
    const replies = client.lines();
    expect(replies).toHaveLength(sent / 1024);
    expect(replies.every((reply) => reply === line)).toBe(true);
  });
});

describe('conversation: ending', () => {
  it('R17: close() answers every line received (a handler in progress too), flushes, and closes', async () => {
    const gate = gatedHandler();
    const { port, served } = await startServer({ handler: gate.handler });
    const client = await connectClient(port);
    await client.write('a\n');
    await client.waitForLines(1);
    await client.write('slow\nb\n');
    await gate.started;
    const conversation = served[0] as Conversation;
    const closing = conversation.close();
    gate.release();
    await closing;
    await client.closed;
    expect(client.text()).toBe('a\nSLOW\nb\n');
    expect(conversation.closeReason).toBe('shutdown');
    expect(conversation.isClosed).toBe(true);
  });

  it('a reset in the middle of a line ends the conversation without harm; the next client is served', async () => {
    const { port, served } = await startServer();
    const client = await connectClient(port);
    await client.write('whole\nhalf a li');
    await client.waitForLines(1);
    client.socket.resetAndDestroy();
    const conversation = served[0] as Conversation;
    await conversation.closed;
    expect(conversation.closeReason).toBe('error');
    expect((conversation.error as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(await exchange(port, 'still here\n')).toBe('still here\n');
  });

  it('closed resolves with the stats of the connection', async () => {
    const { port, served } = await startServer();
    await exchange(port, 'abc\nde\n');
    await settle();
    const conversation = await (served[0] as Conversation).closed;
    expect(conversation.linesIn).toBe(2);
    expect(conversation.bytesIn).toBe(7);
    expect(conversation.bytesOut).toBe(7);
    expect(conversation.closeReason).toBe('end');
  });
});
