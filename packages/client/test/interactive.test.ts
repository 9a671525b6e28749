import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { connect } from '../src/index.js';
import { PROMPT, runInteractive } from '../src/interactive.js';
import { track } from '@comm/test-helpers';
import { cleanUp, startPeer, startRecordingServer } from './helpers.js';

afterEach(cleanUp);

/**
 * Streams that are not terminals, so what runInteractive writes is exactly what it means
 * to, and a person at the keyboard: `type` enters a line once the output shows `awaited`.
 */
function keyboard() {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  let changed: () => void = () => undefined;
  output.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    changed();
  });
  const shows = async (awaited: string): Promise<void> => {
    while (!text.endsWith(awaited)) await new Promise<void>((resolve) => (changed = resolve));
  };
  return {
    input,
    output,
    text: () => text,
    async type(line: string, awaited: string): Promise<void> {
      await shows(awaited);
      input.write(`${line}\n`);
    },
  };
}

describe('runInteractive (the terminal session, with injected streams)', () => {
  it('prompts, prints each reply on its own line, and stops at BYE without printing its reply', async () => {
    const server = await startRecordingServer();
    const client = track(await connect('127.0.0.1', server.port));
    const keys = keyboard();
    const session = runInteractive(client, keys.input, keys.output);
    await keys.type('first', PROMPT);
    await keys.type('second ü 🙂', `first\n${PROMPT}`);
    await keys.type('BYE', `second ü 🙂\n${PROMPT}`);
    keys.input.write('never sent\n');
    expect(await session).toBe('bye');
    expect(PROMPT).toBe('Enter line: ');
    expect(keys.text()).toBe(`${PROMPT}first\n${PROMPT}second ü 🙂\n${PROMPT}`);
    expect(server.received).toEqual(['first', 'second ü 🙂', 'BYE']);
    expect(client.closed).toBe(true);
  });

  it('prompt: false writes the replies alone, for input that is not a person', async () => {
    const server = await startRecordingServer();
    const client = track(await connect('127.0.0.1', server.port));
    const keys = keyboard();
    const session = runInteractive(client, keys.input, keys.output, { prompt: false });
    keys.input.write('one\n');
    await keys.type('two', 'one\n');
    await keys.type('BYE', 'two\n');
    expect(await session).toBe('bye');
    expect(keys.text()).toBe('one\ntwo\n');
    expect(server.received).toEqual(['one', 'two', 'BYE']);
  });

  it('end of input closes the conversation with BYE', async () => {
    const server = await startRecordingServer();
    const client = track(await connect('127.0.0.1', server.port));
    const keys = keyboard();
    const session = runInteractive(client, keys.input, keys.output);
    await keys.type('only', PROMPT);
    await keys.type('', `only\n${PROMPT}`);
    keys.input.end();
    expect(await session).toBe('end-of-input');
    // R5: the empty line got its (empty) reply too.
    expect(keys.text()).toBe(`${PROMPT}only\n${PROMPT}\n${PROMPT}`);
    expect(server.received).toEqual(['only', '', 'BYE']);
  });

  it('sends one line at a time, as the chapter does, even when lines arrive together', async () => {
    // An echo that answers each line after a pause and notes every line that came while a reply was owed.
    const cameEarly: string[] = [];
    const slowEcho = net.createServer((socket) => {
      let owed = 0;
      let pending = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => {
        pending += chunk;
        for (let lf = pending.indexOf('\n'); lf !== -1; lf = pending.indexOf('\n')) {
          const line = pending.slice(0, lf);
          pending = pending.slice(lf + 1);
          if (owed > 0) cameEarly.push(line);
          owed += 1;
          setTimeout(() => {
            owed -= 1;
            if (!socket.destroyed) socket.write(`${line}\n`);
          }, 30);
        }
      });
      socket.on('error', () => undefined);
    });
    onTestFinished(() => new Promise<void>((resolve) => slowEcho.close(() => resolve())));
    await once(slowEcho.listen(0, '::1'), 'listening');
    const client = track(await connect('::1', (slowEcho.address() as AddressInfo).port));
    const keys = keyboard();
    keys.input.end('a\nb\nc\n');
    expect(await runInteractive(client, keys.input, keys.output)).toBe('end-of-input');
    expect(keys.text()).toBe(`${PROMPT}a\n${PROMPT}b\n${PROMPT}c\n${PROMPT}`);
    expect(cameEarly).toEqual([]);
  });

  it('a failing connection rejects with the client error', async () => {
    const peer = await startPeer('cut', '127.0.0.1');
    const client = track(await connect('127.0.0.1', peer.port));
    const keys = keyboard();
    keys.input.end('one\ntwo\n');
    await expect(runInteractive(client, keys.input, keys.output)).rejects.toMatchObject({ code: 'COMM_CONNECTION_LOST' });
  });
});
