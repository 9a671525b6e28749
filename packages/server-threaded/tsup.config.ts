import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// The library as ESM + CJS with types; the worker entry and the `comm-server-threaded` bin as ESM
// files beside it. Both library builds start `dist/worker.js`, found next to themselves.
export default defineConfig([
  packageBuild({ index: 'src/index.ts' }),
  { ...packageBuild({ worker: 'src/worker.ts', cli: 'src/cli.ts' }), format: ['esm'], dts: false, clean: false },
]);
