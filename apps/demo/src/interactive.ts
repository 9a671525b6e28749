import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { CommClient } from '@comm/client';
import { STEP_TIMEOUT_MS } from './scene.js';

/** The chapter's prompt. */
export const PROMPT = 'Enter line: ';

/** How the session ended. */
export type SessionEnd = 'bye' | 'end-of-input';

/**
 * The chapter's client loop: prompt `Enter line: `, send the line, print the reply. `BYE` ends
 * the conversation (R10) after the server's `BYE`, and so does the end of input (Ctrl-D). The
 * prompt is shown only on a terminal, so piped input gives reply lines alone. Each reply is
 * awaited at most {@link STEP_TIMEOUT_MS}.
 *
 * @example
 * ```ts
 * const client = await connect('::1', 2000);
 * await promptLoop(client, process.stdin, process.stdout);
 * ```
 */
export async function promptLoop(
  client: CommClient,
  input: Readable & { isTTY?: boolean },
  output: Writable,
): Promise<SessionEnd> {
  const terminal = input.isTTY === true;
  const reader = createInterface({ input, output, prompt: PROMPT, terminal });
  // Ctrl-C on the prompt ends the session like Ctrl-D: with a BYE, nothing lost.
  reader.on('SIGINT', () => reader.close());
  try {
    if (terminal) reader.prompt();
    for await (const line of reader) {
      const reply = await client.request(line, { timeout: STEP_TIMEOUT_MS });
      if (line === 'BYE') return 'bye';
      output.write(`${reply}\n`);
      if (terminal) reader.prompt();
    }
    if (terminal) output.write('\n');
    await client.close();
    return 'end-of-input';
  } finally {
    reader.close();
  }
}
