// The built demo CLI, as `pnpm demo` runs it; the tests start it (and nc, script) with the
// shared runner of `@comm/test-helpers`.
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
