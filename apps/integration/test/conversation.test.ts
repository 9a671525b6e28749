import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '@comm/client';
import { sampleLines, track } from '@comm/test-helpers';
import { cleanUp, runComm, startServer, type ServerKind } from './helpers.js';

afterEach(cleanUp);

/** What our client sees of each of our servers: the same protocol, whichever server speaks it. */
describe.each<[ServerKind]>([['seq'], ['threaded']])('@comm/client against @comm/server-%s', (kind) => {
  it('R1: one dual-stack listener answers IPv4 127.0.0.1 and IPv6 ::1', async () => {
    const server = await startServer(kind);
    const four = track(await connect('127.0.0.1', server.port));
    expect(await four.request('over IPv4')).toBe('over IPv4');
    await four.close();
    const six = track(await connect('[::1]', server.port));
    expect(six.remoteFamily).toBe('IPv6');
    expect(await six.request('over IPv6')).toBe('over IPv6');
    await six.close();
  });

  it('R9: pipelined requests, every reply matched to its line in order; R2/R4/R5 text both ways', async () => {
    const server = await startServer(kind);
    const client = track(await connect('::1', server.port));
    const lines = sampleLines(5000);
    expect(await Promise.all(lines.map((line) => client.request(line)))).toEqual(lines);
    const streamed: string[] = [];
    for await (const reply of client.pipeline(lines, { window: 128 })) streamed.push(reply);
    expect(streamed).toEqual(lines);
    await client.close();
  });

  it('R9: a handler of the server answers each line in order (upper case)', async () => {
    const server = await startServer(kind, { behaviour: 'upper' });
    const client = track(await connect('127.0.0.1', server.port));
    const lines = ['straße', 'ünïcode 😀', 'last'];
    expect(await Promise.all(lines.map((line) => client.request(line)))).toEqual(lines.map((line) => line.toUpperCase()));
    await client.close();
  });

  it('R7 and R12: a line over the server’s limit gets an ERR reply in its place, as plain reply text; the rest go on', async () => {
    const server = await startServer(kind, { options: { maxLineLength: 100 } });
    const client = track(await connect('127.0.0.1', server.port));
    const [before, long, after] = await Promise.all([
      client.request('before'),
      client.request('x'.repeat(101)),
      client.request('after'),
    ]);
    expect(before).toBe('before');
    expect(long).toMatch(/^ERR COMM_LINE_TOO_LONG /);
    expect(after).toBe('after');
    await client.close();
  });

  it('R12: a failing handler answers ERR COMM_HANDLER_FAILED for that line only', async () => {
    const server = await startServer(kind, { behaviour: 'fail-on-boom' });
    const client = track(await connect('127.0.0.1', server.port));
    const replies = await Promise.all(['one', 'boom', 'three'].map((line) => client.request(line)));
    expect(replies[0]).toBe('one');
    expect(replies[1]).toMatch(/^ERR COMM_HANDLER_FAILED /);
    expect(replies[2]).toBe('three');
    await client.close();
  });

  it('R10: close() sends BYE, gets every reply owed and the BYE reply, and the server closes', async () => {
    const server = await startServer(kind);
    const client = track(await connect('127.0.0.1', server.port));
    const owed = ['a', 'b', 'c'].map((line) => client.request(line));
    await client.close();
    expect(await Promise.all(owed)).toEqual(['a', 'b', 'c']);
    expect(client.closed).toBe(true);
    const again = track(await connect('127.0.0.1', server.port));
    expect(await again.request('BYE')).toBe('BYE');
    expect(again.closed).toBe(true);
  });

  it('R17: a shutdown answers every line the server received; the rest fail with COMM_CONNECTION_LOST, none hangs', async () => {
    const server = await startServer(kind);
    const client = track(await connect('127.0.0.1', server.port));
    const lines = Array.from({ length: 2000 }, (_, index) => `line ${index}`);
    const settled = Promise.allSettled(lines.map((line) => client.request(line)));
    expect(await client.request('sync')).toBe('sync');
    await server.close();
    const results = await settled;
    const answered = results.filter((result) => result.status === 'fulfilled').length;
    // Every line before 'sync' was received before the shutdown, so every one was answered.
    expect(answered).toBe(lines.length);
    expect(results.map((result) => (result as PromiseFulfilledResult<string>).value)).toEqual(lines);
    await expect(client.request('after the shutdown')).rejects.toMatchObject({ code: 'COMM_CONNECTION_LOST' });
  });

  it('the comm command: a filter of one reply per line, in order; BYE ends it', async () => {
    const server = await startServer(kind);
    const lines = sampleLines(20_000);
    const result = await runComm(['127.0.0.1', String(server.port)], `${lines.join('\n')}\nBYE\nnot sent\n`);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(`${lines.join('\n')}\n`);
  });

  it('R3, R6, R11: comm with input as Windows tools write it (a BOM, CRLF) and a last line without LF: every line answered, without BOM or CR', async () => {
    const server = await startServer(kind);
    const result = await runComm(['127.0.0.1', String(server.port)], '\uFEFFfirst\r\nsecond\r\n\r\nlast without LF');
    expect(result).toMatchObject({ code: 0, stdout: 'first\nsecond\n\nlast without LF\n', stderr: '' });
  });

  it('the comm command over IPv6 with -6 and the port', async () => {
    const server = await startServer(kind);
    const result = await runComm(['-6', '::1', String(server.port)], 'héllo 𝄞\n');
    expect(result).toMatchObject({ code: 0, stdout: 'héllo 𝄞\n', stderr: '' });
  });
});
