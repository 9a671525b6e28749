import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../src/index.js';
import { track } from '@comm/test-helpers';
import { cleanUp, startNodeEcho, startPeer } from './helpers.js';

afterEach(cleanUp);

function* numbered(count: number, seen?: { count: number }): Generator<string> {
  for (let index = 0; index < count; index++) {
    if (seen) seen.count = index + 1;
    yield `line ${index} ✓ 😀`;
  }
}

describe('pipeline', () => {
  it('R9: yields every reply in order, never more than the window in flight, from a peer that splits replies', async () => {
    const peer = await startPeer('split', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    const window = 64;
    const replies: string[] = [];
    let mostPending = 0;
    for await (const reply of client.pipeline(numbered(5000), { window })) {
      replies.push(reply);
      mostPending = Math.max(mostPending, client.pending);
    }
    expect(replies).toEqual([...numbered(5000)]);
    expect(mostPending).toBeGreaterThan(1);
    expect(mostPending).toBeLessThanOrEqual(window);
  });

  it('pipelineBatches: the same replies in order, in non-empty arrays; a bad reply throws after the ones before it', async () => {
    const peer = await startPeer('bad-utf8', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    const lines = [...numbered(3000)];
    const batches: string[][] = [];
    for await (const replies of client.pipelineBatches(lines, { window: 500 })) batches.push(replies);
    expect(batches.every((replies) => replies.length > 0)).toBe(true);
    expect(batches.flat()).toEqual(lines);
    const taken: string[] = [];
    await expect(async () => {
      for await (const replies of client.pipelineBatches(['a', 'b', 'bad', 'c'])) taken.push(...replies);
    }).rejects.toMatchObject({ code: 'COMM_INVALID_UTF8' });
    expect(taken).toEqual(['a', 'b']);
    await expect(client.pipelineBatches('not lines' as unknown as string[]).next()).rejects.toMatchObject({
      code: 'COMM_INVALID_OPTION',
    });
  });

  it('streams: a source much longer than the window passes with bounded reading ahead', async () => {
    const peer = await startNodeEcho('::1');
    const client = track(await connect('::1', peer.port));
    const seen = { count: 0 };
    let replies = 0;
    let mostAhead = 0;
    for await (const reply of client.pipeline(numbered(200_000, seen), { window: 256 })) {
      expect(reply).toBe(`line ${replies} ✓ 😀`);
      replies++;
      mostAhead = Math.max(mostAhead, seen.count - replies);
    }
    expect(replies).toBe(200_000);
    // The source runs ahead of the replies taken by at most the window in flight, plus the
    // batch of replies being handed out one by one, plus the line waiting for room.
    expect(mostAhead).toBeLessThanOrEqual(2 * 256 + 1);
  });

  it('works line by line with a source that waits for each reply (no batching delay deadlocks it)', async () => {
    const peer = await startPeer('bytewise', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    let lastReply = '';
    async function* conversation(): AsyncGenerator<string> {
      for (let turn = 0; turn < 5; turn++) {
        yield `turn ${turn}`;
        // The next line depends on the reply to this one, like a person at a prompt.
        while (lastReply !== `turn ${turn}`) await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const replies: string[] = [];
    for await (const reply of client.pipeline(conversation())) {
      lastReply = reply;
      replies.push(reply);
    }
    expect(replies).toEqual(['turn 0', 'turn 1', 'turn 2', 'turn 3', 'turn 4']);
  });

  it('R10: a BYE line ends it: earlier replies are yielded, BYE yields nothing, later lines are not read, the client closes', async () => {
    const peer = await startPeer('echo', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    const read: string[] = [];
    function* source(): Generator<string> {
      for (const line of ['one', 'two', 'BYE', 'three']) {
        read.push(line);
        yield line;
      }
    }
    const replies: string[] = [];
    for await (const reply of client.pipeline(source())) replies.push(reply);
    expect(replies).toEqual(['one', 'two']);
    expect(read).toEqual(['one', 'two', 'BYE']);
    expect(client.closed).toBe(true);
    await expect(client.request('after')).rejects.toMatchObject({ code: 'COMM_CLIENT_CLOSED' });
  });

  it('breaking out early drops the replies still owed, and the client stays usable in order', async () => {
    const peer = await startPeer('split', '::1');
    const client = track(await connect('::1', peer.port));
    let taken = 0;
    for await (const reply of client.pipeline(numbered(2000), { window: 100 })) {
      expect(reply).toBe(`line ${taken} ✓ 😀`);
      if (++taken === 10) break;
    }
    expect(await client.request('after the break')).toBe('after the break');
  });

  it('R8: a bad reply fails the iteration with its code, naming the address', async () => {
    const peer = await startPeer('bad-utf8', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    const replies: string[] = [];
    await expect(async () => {
      for await (const reply of client.pipeline(['ok', 'bad', 'never'])) replies.push(reply);
    }).rejects.toMatchObject({ code: 'COMM_INVALID_UTF8', message: `invalid utf-8 in reply from 127.0.0.1:${peer.port}` });
    expect(replies).toEqual(['ok']);
  });

  it('a server that never answers: COMM_TIMEOUT once no reply came within the timeout', async () => {
    const peer = await startPeer('silent', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    await expect(async () => {
      for await (const reply of client.pipeline(['anyone?'], { timeout: 150 })) expect.fail(`unexpected reply ${reply}`);
    }).rejects.toMatchObject({ code: 'COMM_TIMEOUT', phase: 'reply' });
  });

  it('the timeout does not strike while the source is idle and nothing is owed', async () => {
    const peer = await startPeer('echo', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port, { timeout: 500 }));
    async function* slowSource(): AsyncGenerator<string> {
      yield 'first';
      await new Promise((resolve) => setTimeout(resolve, 1500));
      yield 'second';
    }
    const replies: string[] = [];
    for await (const reply of client.pipeline(slowSource())) replies.push(reply);
    expect(replies).toEqual(['first', 'second']);
  });

  it('an AbortSignal stops it with COMM_ABORTED', async () => {
    const peer = await startPeer('silent', '::1');
    const client = track(await connect('::1', peer.port));
    const controller = new AbortController();
    const run = (async () => {
      for await (const reply of client.pipeline(numbered(10), { signal: controller.signal }))
        expect.fail(`unexpected reply ${reply}`);
    })();
    setImmediate(() => controller.abort());
    await expect(run).rejects.toMatchObject({ code: 'COMM_ABORTED' });
  });

  it('a connection lost mid-stream fails it with COMM_CONNECTION_LOST', async () => {
    const peer = await startPeer('cut', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    const replies: string[] = [];
    await expect(async () => {
      for await (const reply of client.pipeline(numbered(100))) replies.push(reply);
    }).rejects.toMatchObject({ code: 'COMM_CONNECTION_LOST' });
    expect(replies).toEqual(['line 0 ✓ 😀']);
  });

  it('a line with a break in the source fails it with COMM_LINE_HAS_BREAK; a window below 1 is refused', async () => {
    const peer = await startPeer('echo', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    await expect(async () => {
      for await (const _ of client.pipeline(['fine', 'not\nfine'])) void _;
    }).rejects.toMatchObject({ code: 'COMM_LINE_HAS_BREAK' });
    await expect(client.pipeline([], { window: 0 }).next()).rejects.toMatchObject({ code: 'COMM_INVALID_OPTION' });
  });
});
