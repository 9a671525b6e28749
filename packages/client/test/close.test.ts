import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../src/index.js';
import { track } from '@comm/test-helpers';
import { cleanUp, startPeer, startRecordingServer } from './helpers.js';

afterEach(cleanUp);

describe('close', () => {
  it('R10: sends BYE after the pending lines, which get their replies first, and resolves after the BYE reply', async () => {
    const server = await startRecordingServer();
    const client = track(await connect('127.0.0.1', server.port));
    const first = client.request('first');
    const second = client.request('second');
    await client.close();
    expect(await first).toBe('first');
    expect(await second).toBe('second');
    expect(server.received).toEqual(['first', 'second', 'BYE']);
    expect(client.closed).toBe(true);
  });

  it('R10: against a plain echo (which never closes by itself) it ends its side after the BYE reply', async () => {
    const peer = await startPeer('echo', '::1');
    const client = track(await connect('::1', peer.port));
    expect(await client.request('hi')).toBe('hi');
    await client.close();
    expect(client.closed).toBe(true);
  });

  it('requests after close() reject with COMM_CLIENT_CLOSED, naming the address', async () => {
    const server = await startRecordingServer();
    const client = track(await connect('127.0.0.1', server.port));
    const closing = client.close();
    await expect(client.request('too late')).rejects.toMatchObject({
      code: 'COMM_CLIENT_CLOSED',
      message: `client closed: 127.0.0.1:${server.port}`,
    });
    await closing;
    await expect(client.request('later still')).rejects.toMatchObject({ code: 'COMM_CLIENT_CLOSED' });
    expect(server.received).toEqual(['BYE']);
  });

  it('close() twice returns the same promise', async () => {
    const server = await startRecordingServer();
    const client = track(await connect('127.0.0.1', server.port));
    const once = client.close();
    expect(client.close()).toBe(once);
    await once;
    await client.close();
  });

  it('a server that never answers BYE: close() destroys after closeTimeout and rejects with COMM_TIMEOUT', async () => {
    const server = await startRecordingServer({ replyToBye: false });
    const client = track(await connect('127.0.0.1', server.port, { closeTimeout: 200 }));
    await expect(client.close()).rejects.toMatchObject({
      code: 'COMM_TIMEOUT',
      phase: 'close',
      message: `timed out: no BYE reply within 200 ms from 127.0.0.1:${server.port}`,
    });
    expect(client.closed).toBe(true);
  });

  it('a server that closes instead of answering BYE: close() resolves (the connection is closed either way)', async () => {
    const peer = await startPeer('busy', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    await client.close();
    expect(client.closed).toBe(true);
  });

  it("request('BYE') ends the conversation like close() and resolves with the server's BYE reply", async () => {
    const server = await startRecordingServer();
    const client = track(await connect('127.0.0.1', server.port));
    expect(await client.request('BYE')).toBe('BYE');
    expect(client.closed).toBe(true);
    expect(server.received).toEqual(['BYE']);
  });

  it('destroy() rejects every pending request with COMM_CLIENT_CLOSED at once, without BYE', async () => {
    const peer = await startPeer('silent', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    const pending = Promise.allSettled([client.request('a'), client.request('b')]);
    client.destroy();
    const results = await pending;
    expect(results.map((result) => result.status === 'rejected' && (result.reason as { code: string }).code)).toEqual([
      'COMM_CLIENT_CLOSED',
      'COMM_CLIENT_CLOSED',
    ]);
  });

  it('a line that came when no reply was owed is named in the error when the server then closes (R16 busy)', async () => {
    const peer = await startPeer('busy', '::1');
    const client = track(await connect('::1', peer.port));
    // Wait until the peer's line and close have arrived, with no request out.
    while (!client.closed) await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(client.request('hello')).rejects.toMatchObject({
      code: 'COMM_CONNECTION_LOST',
      message: `connection lost: [::1]:${peer.port} (the server closed the connection with 0 replies owed; the server said 'ERR COMM_SERVER_BUSY too many clients waiting')`,
    });
  });
});
