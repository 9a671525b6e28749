import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { killChildren, start } from '@comm/test-helpers';
import { CLI } from './processes.js';

/** util-linux `script` gives the demo a pseudo-terminal; without it these tests cannot run. */
function hasScript(): boolean {
  try {
    return execFileSync('script', ['--version'], { encoding: 'utf8' }).includes('util-linux');
  } catch {
    return false;
  }
}

/** What a terminal shows, without colours, cursor moves and carriage returns. */
function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
}

function onTerminal() {
  return start('script', ['-qfec', `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)}`, '/dev/null']);
}

afterEach(killChildren);

describe.skipIf(!hasScript())('the demo on a terminal', () => {
  it('R10: after the scene, Enter line: talks to the threaded server until BYE, exit 0', async () => {
    const demo = onTerminal();
    await demo.waitFor(/served by thread \d+\.[\s\S]*Enter line: /, { limitMs: 90_000 });
    demo.child.stdin.write('héllo 🌍 from the keyboard\n');
    await demo.waitFor(/\nhéllo 🌍 from the keyboard\r?\n[\s\S]*Enter line: /);
    demo.child.stdin.write('BYE\n');
    expect(await demo.exited(30_000)).toBe(0);
    const screen = plain(demo.stdout());
    expect(screen).toMatch(/What it shows:/);
    // The line as typed (echoed by the terminal), then the server's reply on a line of its own.
    expect(screen).toMatch(/Enter line: héllo 🌍 from the keyboard\nhéllo 🌍 from the keyboard\n/);
    demo.child.stdin.end();
  });

  it('R11: Ctrl-D at the prompt ends the session cleanly, exit 0', async () => {
    const demo = onTerminal();
    await demo.waitFor(/Enter line: /, { limitMs: 90_000 });
    demo.child.stdin.write('\x04');
    expect(await demo.exited(30_000)).toBe(0);
    demo.child.stdin.end();
  });
});
