import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// The library as ESM + CJS with types; the `comm-server-seq` bin as one ESM file beside it.
export default defineConfig([
  packageBuild({ index: 'src/index.ts' }),
  { ...packageBuild({ cli: 'src/cli.ts' }), format: ['esm'], dts: false, clean: false },
]);
