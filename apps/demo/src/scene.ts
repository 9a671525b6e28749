import { LineClient, startEchoServer } from './bootstrap.js';
import { Timeline } from './timeline.js';

/** The non-ASCII line every demo sends: 2-, 3- and 4-byte UTF-8 characters. */
export const UNICODE_LINE = 'héllo wörld — 你好 🌍';

/** How long any one step of the scene may take before the demo gives up on it. */
const STEP_TIMEOUT_MS = 5_000;

interface ScriptedClient {
  name: string;
  host: string;
}

/**
 * The scene as far as the packages allow today: three clients (one over IPv6) talk to a
 * loopback echo server built on @comm/protocol's codec, and the timeline shows every line.
 */
export async function runScene(print: (line: string) => void): Promise<void> {
  const server = await startEchoServer('::');
  const timeline = new Timeline(print);
  try {
    print(`echo server (codec of @comm/protocol) listening on [::]:${server.port}`);
    print('');
    timeline.header();
    const clients: ScriptedClient[] = [
      { name: 'A', host: '127.0.0.1' },
      { name: 'B', host: '::1' },
      { name: 'C', host: '127.0.0.1' },
    ];
    for (const { name, host } of clients) {
      const label = `${name} ${host}`;
      const client = await LineClient.connect(host, server.port, STEP_TIMEOUT_MS);
      timeline.record({ server: 'echo', client: label, kind: 'connect' });
      try {
        for (const line of [`hello from ${name}`, UNICODE_LINE, 'BYE']) {
          client.send(line);
          timeline.record({ server: 'echo', client: label, kind: 'sent', text: line });
          const reply = await client.nextReply(STEP_TIMEOUT_MS);
          timeline.record({ server: 'echo', client: label, kind: 'received', text: reply, thread: 'main' });
        }
      } finally {
        client.destroy();
      }
    }
  } finally {
    await server.close();
  }
}
