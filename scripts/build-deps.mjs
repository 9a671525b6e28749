#!/usr/bin/env node
// `pretest`/`pretypecheck` of every package: builds the package and the workspace packages it
// depends on (through turbo, so an unchanged package is a cache hit) before its tests run;
// with `--deps-only` (for the type-check) only the dependencies. Why: tests and `tsc` import siblings such as `@comm/protocol` through their
// `exports`, i.e. from `dist/`, so `pnpm --filter @comm/client test` on a fresh clone, or after
// editing the protocol's source, must build first. Under `turbo run test` the task graph
// (`dependsOn: ["^build", "build"]`) has already done this, so it does nothing there.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// turbo sets TURBO_HASH in the environment of every task it runs.
if (process.env.TURBO_HASH) process.exit(0);

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { name } = JSON.parse(readFileSync('package.json', 'utf8'));
const depsOnly = process.argv.includes('--deps-only');
const scope = depsOnly ? `the workspace dependencies of ${name}` : `${name} and its workspace dependencies`;
try {
  execFileSync(
    join(root, 'node_modules', '.bin', 'turbo'),
    ['run', 'build', `--filter=${name}${depsOnly ? '^' : ''}...`, '--output-logs=errors-only'],
    { cwd: root, stdio: 'inherit' },
  );
} catch {
  console.error(`build-deps: building ${scope} failed`);
  process.exit(1);
}
