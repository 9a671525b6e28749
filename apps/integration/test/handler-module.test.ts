// One handler module, both server commands: `--handler MODULE` means the same on each, and the
// module the core ships (examples/upper.mjs) answers alike on both.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const bin = (pkg: string, name: string): string => join(dirname(require.resolve(`${pkg}/package.json`)), 'bin', `${name}.js`);
const COMMANDS = {
  'comm-server-seq': bin('@comm/server-seq', 'comm-server-seq'),
  'comm-server-threaded': bin('@comm/server-threaded', 'comm-server-threaded'),
};
const UPPER = join(dirname(require.resolve('@comm/server-core/package.json')), 'examples', 'upper.mjs');

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

async function start(command: string, args: string[]): Promise<{ port: number; stdout: () => string }> {
  const child = spawn(process.execPath, [command, '--host', '127.0.0.1', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  for (;;) {
    const match = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
    if (match) return { port: Number(match[1]), stdout: () => stdout };
    if (child.exitCode !== null) throw new Error(`${command} exited: ${stderr}`);
    await Promise.race([once(child.stderr, 'data'), once(child, 'exit')]);
  }
}

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
      const { port } = await start(command, ['--handler', UPPER]);
      expect(await converse(port, 'hello\nwörld\nBYE\n')).toBe('1: HELLO\n2: WÖRLD\nBYE\n');
      // A second connection has its own state.
      expect(await converse(port, 'again\n')).toBe('1: AGAIN\n');
    });

    it(`${name} --handler with a module that cannot load exits 1 and says why`, async () => {
      const child = spawn(process.execPath, [command, '--port', '0', '--handler', './no-such-module.mjs'], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
      const [code] = await once(child, 'exit');
      expect(code).toBe(1);
      expect(stderr).toContain('cannot load handler module');
      expect(stderr).toContain('no-such-module.mjs');
    });
  }
});
