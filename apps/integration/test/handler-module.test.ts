// One handler module, both server commands: `--handler MODULE` means the same on each, and the
// module the core ships (examples/upper.mjs) answers alike on both.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killChildren, start } from '@comm/test-helpers';

const require = createRequire(import.meta.url);
const packageDir = (pkg: string): string => dirname(require.resolve(`${pkg}/package.json`));
const COMMANDS = {
  'comm-server-seq': join(packageDir('@comm/server-seq'), 'bin', 'comm-server-seq.js'),
  'comm-server-threaded': join(packageDir('@comm/server-threaded'), 'bin', 'comm-server-threaded.js'),
};
const UPPER = join(packageDir('@comm/server-core'), 'examples', 'upper.mjs');

afterEach(killChildren);

async function converse(port: number, text: string): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  let received = '';
  socket.on('data', (chunk: string) => (received += chunk));
  socket.end(text);
  await once(socket, 'close');
  return received;
}

describe('the same handler module on both servers', () => {
  for (const [name, command] of Object.entries(COMMANDS)) {
    it(`${name} --handler examples/upper.mjs: setup per connection, handler per line (R9, R10)`, async () => {
      const port = await start(process.execPath, [command, '--host', '127.0.0.1', '--port', '0', '--handler', UPPER]).listening();
      expect(await converse(port, 'hello\nwörld\nBYE\n')).toBe('1: HELLO\n2: WÖRLD\nBYE\n');
      // A second connection has its own state.
      expect(await converse(port, 'again\n')).toBe('1: AGAIN\n');
    });

    it(`${name} --handler with a module that cannot load exits 1 and says why`, async () => {
      const run = start(process.execPath, [command, '--port', '0', '--handler', './no-such-module.mjs']);
      expect(await run.exited()).toBe(1);
      expect(run.stderr()).toContain('cannot load handler module');
      expect(run.stderr()).toContain('no-such-module.mjs');
    });
  }
});
