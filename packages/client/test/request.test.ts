import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../src/index.js';
import { sampleLines, track } from '@comm/test-helpers';
import { cleanUp, startPeer, startSocatEcho, type PeerMode } from './helpers.js';

afterEach(cleanUp);

describe('request', () => {
  it.each<[PeerMode, string]>([
    ['split', 'random pieces of 1-7 bytes'],
    ['bytewise', 'one byte at a time'],
    ['echo', 'whatever recv returns (the chapter’s server)'],
  ])('R9: pipelined requests each get their own reply, in order, from a peer that sends %s (%s)', async (mode) => {
    const peer = await startPeer(mode, '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    const lines = sampleLines(mode === 'bytewise' ? 300 : 2000);
    const replies = await Promise.all(lines.map((line) => client.request(line)));
    expect(replies).toEqual(lines);
    expect(client.pending).toBe(0);
  });

  it.each<['127.0.0.1' | '::1']>([['127.0.0.1'], ['::1']])('R2: non-ASCII both ways through socat PIPE on %s', async (host) => {
    const peer = await startSocatEcho(host);
    const client = track(await connect(host, peer.port));
    const lines = sampleLines(500);
    expect(await Promise.all(lines.map((line) => client.request(line)))).toEqual(lines);
    expect(await client.request('𝄞😀 four-byte characters')).toBe('𝄞😀 four-byte characters');
  });

  it("R3, R4, R5, R6: replies ended by CRLF lose the CR; an empty reply and U+2028 are lines like any other; a BOM at the start of the server's stream is dropped, later it is data", async () => {
    const peer = await startPeer('windows', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    const lines = ['first', '', 'a\u2028b', '\uFEFFthe BOM of this line is data'];
    expect(await Promise.all(lines.map((line) => client.request(line)))).toEqual(lines);
    expect(await client.request('after')).toBe('after');
  });

  it('R7: a reply line over the limit rejects its request with COMM_LINE_TOO_LONG; the next ones still match', async () => {
    const peer = await startPeer('split', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port, { maxLineLength: 100 }));
    const before = client.request('before');
    const long = client.request('x'.repeat(101));
    const exact = client.request('é'.repeat(50)); // 100 bytes: at the limit, not over it
    const after = client.request('after');
    await expect(long).rejects.toMatchObject({
      code: 'COMM_LINE_TOO_LONG',
      message: `reply line too long: more than 100 bytes from 127.0.0.1:${peer.port}`,
    });
    expect(await before).toBe('before');
    expect(await exact).toBe('é'.repeat(50));
    expect(await after).toBe('after');
  });

  it('R8: a reply with invalid UTF-8 rejects its request with COMM_INVALID_UTF8; the conversation goes on', async () => {
    const peer = await startPeer('bad-utf8', '::1');
    const client = track(await connect('::1', peer.port));
    const bad = client.request('bad');
    const good = client.request('good');
    await expect(bad).rejects.toMatchObject({
      code: 'COMM_INVALID_UTF8',
      message: `invalid utf-8 in reply from [::1]:${peer.port}`,
    });
    expect(await good).toBe('good');
  });

  it('R12: an error reply is plain reply text', async () => {
    const peer = await startPeer('echo', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    expect(await client.request('ERR COMM_LINE_TOO_LONG not really')).toBe('ERR COMM_LINE_TOO_LONG not really');
  });

  it('a server that never answers: the request times out with COMM_TIMEOUT naming the address', async () => {
    const peer = await startPeer('silent', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port, { timeout: 150 }));
    await expect(client.request('hello?')).rejects.toMatchObject({
      code: 'COMM_TIMEOUT',
      phase: 'reply',
      message: `timed out: no reply within 150 ms from 127.0.0.1:${peer.port}`,
    });
    await expect(client.request('again?', { timeout: 50 })).rejects.toMatchObject({ code: 'COMM_TIMEOUT', timeout: 50 });
  });

  it('R9: a timed-out request keeps its place: its late reply is dropped, the next request gets its own', async () => {
    const peer = await startPeer('hold', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    await expect(client.request('held', { timeout: 100 })).rejects.toMatchObject({ code: 'COMM_TIMEOUT' });
    // 'release' makes the peer answer 'held' and then 'release'.
    expect(await client.request('release')).toBe('release');
  });

  it('R9: an aborted request keeps its place: its late reply is dropped, the next request gets its own', async () => {
    const peer = await startPeer('hold', '::1');
    const client = track(await connect('::1', peer.port));
    const controller = new AbortController();
    const aborted = client.request('held', { signal: controller.signal });
    const next = client.request('release');
    controller.abort(new Error('user gave up'));
    await expect(aborted).rejects.toMatchObject({ code: 'COMM_ABORTED', message: `aborted: request to [::1]:${peer.port}` });
    expect(await next).toBe('release');
  });

  it('a request with an already aborted signal is not sent at all', async () => {
    const peer = await startPeer('hold', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    await expect(client.request('never sent', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'COMM_ABORTED' });
    // Had it been sent, the peer would answer it first and 'release' would get 'never sent'.
    expect(await client.request('release')).toBe('release');
  });

  it('a server that closes mid-reply: COMM_CONNECTION_LOST for that request and every pending one', async () => {
    const peer = await startPeer('cut', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    const results = await Promise.allSettled(['one', 'two', 'three', 'four'].map((line) => client.request(line)));
    expect(results[0]).toEqual({ status: 'fulfilled', value: 'one' });
    for (const result of results.slice(1)) {
      expect(result).toMatchObject({
        status: 'rejected',
        reason: {
          code: 'COMM_CONNECTION_LOST',
          message: `connection lost: 127.0.0.1:${peer.port} (the server closed the connection in the middle of a reply, after 2 bytes of it)`,
        },
      });
    }
    await expect(client.request('later')).rejects.toMatchObject({ code: 'COMM_CONNECTION_LOST' });
    expect(client.closed).toBe(true);
  });

  it('a connection drop rejects every pending request with COMM_CONNECTION_LOST; nothing hangs', async () => {
    const peer = await startPeer('silent', '::1');
    const client = track(await connect('::1', peer.port));
    const settled = Promise.allSettled(Array.from({ length: 100 }, (_, index) => client.request(`line ${index}`)));
    await peer.stop();
    const results = await settled;
    expect(
      results.every(
        (result) => result.status === 'rejected' && (result.reason as { code: string }).code === 'COMM_CONNECTION_LOST',
      ),
    ).toBe(true);
    expect((results[0] as PromiseRejectedResult).reason.message).toMatch(new RegExp(`^connection lost: \\[::1\\]:${peer.port} `));
  });

  it('a line with CR or LF is refused with COMM_LINE_HAS_BREAK and the others go on', async () => {
    const peer = await startPeer('echo', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    await expect(client.request('a\nb')).rejects.toMatchObject({ code: 'COMM_LINE_HAS_BREAK' });
    await expect(client.request('a\rb')).rejects.toMatchObject({ code: 'COMM_LINE_HAS_BREAK' });
    expect(await client.request('fine')).toBe('fine');
  });
});
