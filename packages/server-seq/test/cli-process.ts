// The built `comm-server-seq`, which the CLI and memory tests run as a child process.
import { nodeCli } from '@comm/test-helpers';

export const { start: runCli } = nodeCli(new URL('../dist/cli.js', import.meta.url));
