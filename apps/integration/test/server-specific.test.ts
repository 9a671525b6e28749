import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '@comm/client';
import { track } from '@comm/test-helpers';
import { cleanUp, runComm, startServer } from './helpers.js';

afterEach(cleanUp);

describe('@comm/client against @comm/server-seq: one client at a time', () => {
  it('R16: a waiting client’s pipelined requests stay pending, then all get their replies in order on its turn', async () => {
    const server = await startServer('seq');
    const first = track(await connect('127.0.0.1', server.port));
    expect(await first.request('first is served')).toBe('first is served');
    const second = track(await connect('127.0.0.1', server.port));
    const lines = Array.from({ length: 500 }, (_, index) => `waiting ${index} ✓`);
    let answered = 0;
    const replies = Promise.all(
      lines.map((line) =>
        second.request(line).then((reply) => {
          answered++;
          return reply;
        }),
      ),
    );
    // While the first is served, the second hears nothing (the first's replies still come).
    expect(await first.request('still first')).toBe('still first');
    expect(answered).toBe(0);
    expect(second.pending).toBe(lines.length);
    await first.close();
    expect(await replies).toEqual(lines);
    await second.close();
  });

  it('R16: past maxWaiting, a new client gets ERR COMM_SERVER_BUSY and is closed; the client names it', async () => {
    const server = await startServer('seq', { options: { maxWaiting: 0 } });
    const served = track(await connect('127.0.0.1', server.port));
    expect(await served.request('mine')).toBe('mine');
    const turnedAway = track(await connect('127.0.0.1', server.port));
    // The busy line arrives as the reply to whatever is sent first, and then the connection closes.
    const reply = await turnedAway.request('let me in').catch((error: Error) => error.message);
    expect(reply).toMatch(/COMM_SERVER_BUSY/);
    await expect(turnedAway.request('again')).rejects.toMatchObject({ code: 'COMM_CONNECTION_LOST' });
  });

  it('R16 from the command: a turned-away comm exits 1 and says why', async () => {
    const server = await startServer('seq', { options: { maxWaiting: 0 } });
    const served = track(await connect('127.0.0.1', server.port));
    expect(await served.request('mine')).toBe('mine');
    const result = await runComm(['127.0.0.1', String(server.port)], 'let me in\nplease\n');
    expect(result.code).toBe(1);
    // The busy line is either printed as the first line's reply or named in the error.
    expect(`${result.stdout}${result.stderr}`).toMatch(/COMM_SERVER_BUSY/);
    expect(result.stderr).toMatch(new RegExp(`^comm: connection lost: 127\\.0\\.0\\.1:${server.port} `));
  });

  it('R14: the server closes an idle connection; the next request fails with COMM_CONNECTION_LOST, no hang', async () => {
    const server = await startServer('seq', { options: { idleTimeout: 200 } });
    const client = track(await connect('127.0.0.1', server.port));
    expect(await client.request('then silence')).toBe('then silence');
    while (!client.closed) await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(client.request('anyone?')).rejects.toMatchObject({
      code: 'COMM_CONNECTION_LOST',
      message: expect.stringMatching(/the server closed the connection with 0 replies owed/),
    });
  });
});

describe('@comm/client against @comm/server-threaded: clients in parallel', () => {
  it('R9: many clients pipelining at once each get their own replies, in order', async () => {
    const server = await startServer('threaded');
    const clients = await Promise.all(Array.from({ length: 8 }, () => connect('127.0.0.1', server.port).then(track)));
    const results = await Promise.all(
      clients.map(async (client, which) => {
        const lines = Array.from({ length: 2000 }, (_, index) => `client ${which} line ${index} 😀`);
        const replies: string[] = [];
        for await (const batch of client.pipelineBatches(lines, { window: 64 })) replies.push(...batch);
        await client.close();
        return replies.join('\n') === lines.join('\n');
      }),
    );
    expect(results).toEqual(clients.map(() => true));
  });

  it('R9: comm commands run at the same time, each a correct filter', async () => {
    const server = await startServer('threaded');
    const runs = await Promise.all(
      [0, 1, 2].map((which) => {
        const input = Array.from({ length: 5000 }, (_, index) => `${which}:${index}`).join('\n') + '\n';
        return runComm(['::1', String(server.port)], input).then((result) => ({ result, input }));
      }),
    );
    for (const { result, input } of runs) expect(result).toMatchObject({ code: 0, stdout: input, stderr: '' });
  });
});
