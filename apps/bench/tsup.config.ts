import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

/**
 * Every child process the bench starts is its own entry, so a server runs from its own file and
 * never shares a process with the load generator; codec.ts and client.ts are loaded by the runner.
 */
const entry: Record<string, string> = {
  cli: 'src/cli.ts',
  generator: 'src/generator-process.ts',
  'servers/pipe-echo': 'src/servers/pipe-echo.ts',
  'servers/readline-echo': 'src/servers/readline-echo.ts',
  'servers/comm-seq': 'src/servers/comm-seq.ts',
  'servers/comm-threaded': 'src/servers/comm-threaded.ts',
  'handlers/cpu-burn': 'src/handlers/cpu-burn.ts',
  codec: 'src/codec.ts',
  client: 'src/client.ts',
};

export default defineConfig({
  ...packageBuild(entry),
  format: ['esm'],
  dts: false,
  sourcemap: false,
});
