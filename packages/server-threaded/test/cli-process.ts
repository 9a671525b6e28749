// The built `comm-server-threaded`, run as a child process on the Node that runs the tests.
import { nodeCli, type ChildRun } from '@comm/test-helpers';

export const { start: runCli } = nodeCli(new URL('../dist/cli.js', import.meta.url));

/** Starts a listening server on 127.0.0.1 and a free port; resolves with the port. */
export async function startCli(args: readonly string[]): Promise<{ run: ChildRun; port: number }> {
  const run = runCli(['--host', '127.0.0.1', '--port', '0', ...args]);
  return { run, port: await run.listening() };
}
