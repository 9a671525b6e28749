import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// A private app: one ESM entry per runnable file, no types, no CJS.
export default defineConfig({
  ...packageBuild({ cli: 'src/cli.ts' }),
  format: ['esm'],
  dts: false,
});
