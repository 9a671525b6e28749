import { afterEach, describe, expect, it } from 'vitest';
import { runToEnd } from '@comm/test-helpers';
import { createServer, type SequentialServer } from '../src/index.js';

const servers: SequentialServer[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.destroy();
});

async function start(): Promise<number> {
  const server = createServer({ port: 0 });
  servers.push(server);
  return (await server.listen()).port;
}

/** Runs a tool with `input` on its stdin; resolves with its stdout (UTF-8) once it exits 0. */
async function run(command: string, args: string[], input: string): Promise<string> {
  const { code, stdout, stderr } = await runToEnd(command, args, { input, env: { ...process.env, PYTHONIOENCODING: 'utf-8' } });
  if (code !== 0) throw new Error(`${command} exited ${code}: ${stderr}`);
  return stdout;
}

// The chapter's client, made whole: explicit UTF-8 both ways, one recv loop per reply, then BYE.
const PYTHON_CLIENT = `
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if ':' in host else socket.AF_INET
with socket.socket(family, socket.SOCK_STREAM) as s:
    s.connect((host, port))
    for line in sys.stdin:
        s.sendall(line.encode('utf-8'))
        data = b''
        while not data.endswith(b'\\n'):
            chunk = s.recv(1024)
            if not chunk:
                break
            data += chunk
        print("Received '%s'" % str(data, encoding='utf-8').rstrip('\\n'))
        if line.rstrip() == 'BYE':
            break
`;

describe('interop with the tools of the chapter', () => {
  it('nc (IPv4): lines, CRLF, and a last line without LF are answered (R3, R11)', async () => {
    const port = await start();
    expect(await run('nc', ['-N', '127.0.0.1', String(port)], 'hello\nwörld\r\nlast')).toBe('hello\nwörld\nlast\n');
  });

  it('nc (IPv6): the same over ::1', async () => {
    const port = await start();
    expect(await run('nc', ['-N', '::1', String(port)], 'über\n')).toBe('über\n');
  });

  it('socat: 10,000 lines then EOF, every reply comes back in order (R9, R11)', async () => {
    const port = await start();
    const lines = Array.from({ length: 10_000 }, (_, i) => `socat line ${i} ✓`);
    const out = await run('socat', ['-t', '30', '-', `TCP:127.0.0.1:${port}`], lines.join('\n') + '\n');
    expect(out).toBe(lines.join('\n') + '\n');
  });

  it('socat over IPv6 with BYE: the server answers BYE and closes (R10)', async () => {
    const port = await start();
    expect(await run('socat', ['-t', '30', '-', `TCP6:[::1]:${port}`], 'one\nBYE\nnever\n')).toBe('one\nBYE\n');
  });

  it.each([['127.0.0.1'], ['::1']])("a Python client like the chapter's (%s, explicit UTF-8)", async (host) => {
    const port = await start();
    const out = await run('python3', ['-c', PYTHON_CLIENT, host, String(port)], 'héllo\n€uro ✓\n\nBYE\n');
    expect(out).toBe("Received 'héllo'\nReceived '€uro ✓'\nReceived ''\nReceived 'BYE'\n");
  });
});
