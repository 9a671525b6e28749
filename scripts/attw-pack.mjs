#!/usr/bin/env node
// Runs `attw` on the tarball that `pnpm pack` makes of the package in the current directory.
// Why not `attw --pack`: that packs with npm, which leaves `workspace:^` ranges in the
// tarball's package.json; `pnpm pack` rewrites them to real versions and applies
// `publishConfig`, so this checks exactly what `pnpm publish` would upload.
// Usage (from a package directory): node ../../scripts/attw-pack.mjs [extra attw flags]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packDir = mkdtempSync(join(tmpdir(), 'comm-attw-'));
try {
  execFileSync('pnpm', ['pack', '--pack-destination', packDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const tarballs = readdirSync(packDir).filter((name) => name.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`expected one tarball from pnpm pack, found ${tarballs.length}`);
  execFileSync(join(root, 'node_modules', '.bin', 'attw'), [join(packDir, tarballs[0]), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
} catch (error) {
  // attw has already printed its table; only say which step failed.
  console.error(`attw-pack: ${error instanceof Error ? error.message.split('\n')[0] : error}`);
  process.exitCode = 1;
} finally {
  rmSync(packDir, { recursive: true, force: true });
}
