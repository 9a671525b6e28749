import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { CommClient } from './client.js';
import { BYE } from './connection.js';

/** The chapter's prompt. */
export const PROMPT = 'Enter line: ';

/** How an interactive session ended. */
export type InteractiveEnd = 'bye' | 'end-of-input' | 'interrupted';

/** Options of {@link runInteractive}. */
export interface InteractiveOptions {
  /**
   * Write the `Enter line:` prompt. Default `true`, as the chapter does; `false` leaves the
   * output to the replies alone (e.g. when the input is not a terminal).
   */
  prompt?: boolean;
}

/**
 * The textbook session: prompt `Enter line:`, send the line, print the reply, prompt again.
 * A line `BYE` ends the conversation (R10) without printing its reply; so does the end of
 * input (Ctrl-D). Ctrl-C drops the connection and resolves `'interrupted'`. A reply that does
 * not come within the client's `timeout` (a `connect` option) fails the session.
 *
 * @throws {CommError} when the connection fails or a reply is bad.
 * @example
 * ```ts
 * const client = await connect('localhost', 2000);
 * await runInteractive(client, process.stdin, process.stdout);
 * ```
 */
export async function runInteractive(
  client: CommClient,
  input: Readable,
  output: Writable & { isTTY?: boolean },
  options: InteractiveOptions = {},
): Promise<InteractiveEnd> {
  const prompting = options.prompt ?? true;
  const terminal = output.isTTY === true && (input as { isTTY?: boolean }).isTTY === true;
  const reader = createInterface({ input, output, prompt: PROMPT, terminal });
  let interrupted = false;
  // Lines read before the end of input still come; newer Node versions throw on prompt()
  // by then, so the prompt is written by hand, as the chapter prints it after every reply.
  let inputEnded = false;
  reader.once('close', () => {
    inputEnded = true;
  });
  reader.on('SIGINT', () => {
    interrupted = true;
    client.destroy();
    reader.close();
  });
  try {
    if (prompting) reader.prompt();
    for await (const line of reader) {
      if (line === BYE) {
        await client.close();
        return 'bye';
      }
      const reply = await client.request(line);
      output.write(`${reply}\n`);
      if (!prompting) continue;
      if (inputEnded) output.write(PROMPT);
      else reader.prompt();
    }
    if (interrupted) return 'interrupted';
    // End of input after a prompt: finish the prompt's line so the shell's starts clean.
    if (terminal && prompting) output.write('\n');
    await client.close();
    return 'end-of-input';
  } catch (error) {
    // Ctrl-C destroyed the client under a request in flight; that is not a failure.
    if (interrupted) return 'interrupted';
    throw error;
  } finally {
    reader.close();
  }
}
