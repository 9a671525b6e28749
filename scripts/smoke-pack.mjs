#!/usr/bin/env node
// The pack-and-install smoke test (`pnpm smoke`): proves that what we would publish works for a
// user who has nothing but npm. It packs every publishable workspace package with `pnpm pack`
// (which turns `workspace:^` into real ranges), installs all the tarballs with plain npm into an
// empty project outside the workspace, and there checks `import()` and `require()` of each
// package (same export names both ways) and that each CLI answers `--help` with exit 0.
// Expects `dist/` to be built (the root `smoke` script builds first). COMM_SMOKE_KEEP=1 keeps
// the temporary directory for a look after a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The commands the packages promise; a missing one fails the smoke test. */
const expectedBins = ['comm', 'comm-server-seq', 'comm-server-threaded'];
const commandTimeoutMs = 120_000;

const failures = [];
const fail = (what, detail = '') => {
  failures.push(what);
  console.error(`FAIL ${what}${detail ? `\n${indent(detail)}` : ''}`);
};
const pass = (what) => console.log(`ok   ${what}`);
const indent = (text) =>
  text
    .trim()
    .split('\n')
    .map((line) => `     | ${line}`)
    .join('\n');

function run(command, args, options) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: commandTimeoutMs, ...options });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`;
  return { ok: result.status === 0, status: result.status, signal: result.signal, stdout: result.stdout ?? '', output };
}

function publishablePackages() {
  const found = [];
  for (const group of ['packages', 'apps']) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const entry of readdirSync(groupDir, { withFileTypes: true })) {
      const manifestPath = join(groupDir, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(manifestPath)) continue;
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      if (!manifest.private) found.push({ dir: join(groupDir, entry.name), name: manifest.name });
    }
  }
  return found;
}

/** bin may be a string (the command is the unscoped package name) or a map of command to file. */
function binNames(manifest) {
  if (!manifest.bin) return [];
  if (typeof manifest.bin === 'string') return [manifest.name.replace(/^@[^/]+\//, '')];
  return Object.keys(manifest.bin);
}

const workDir = mkdtempSync(join(tmpdir(), 'comm-smoke-'));
const tarballDir = join(workDir, 'tarballs');
const projectDir = join(workDir, 'project');
mkdirSync(tarballDir);
mkdirSync(projectDir);

try {
  const packages = publishablePackages();
  if (packages.length === 0) throw new Error('no publishable packages found');

  const tarballs = [];
  for (const pkg of packages) {
    if (!existsSync(join(pkg.dir, 'dist'))) {
      fail(`${pkg.name}: no dist/ (run \`pnpm build\` first)`);
      continue;
    }
    const before = new Set(readdirSync(tarballDir));
    const packed = run('pnpm', ['pack', '--pack-destination', tarballDir], { cwd: pkg.dir });
    const made = readdirSync(tarballDir).filter((name) => !before.has(name));
    if (!packed.ok || made.length !== 1) {
      fail(`${pkg.name}: pnpm pack`, packed.output);
      continue;
    }
    tarballs.push(join(tarballDir, made[0]));
    pass(`${pkg.name}: packed ${made[0]}`);
  }

  // A project of a user: no workspace, no pnpm, its own package.json.
  writeFileSync(
    join(projectDir, 'package.json'),
    `${JSON.stringify({ name: 'comm-smoke-project', version: '1.0.0', private: true }, null, 2)}\n`,
  );
  const installed = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs], {
    cwd: projectDir,
  });
  if (!installed.ok) throw new Error(`npm install of the tarballs failed:\n${installed.output}`);
  pass(`npm install of ${tarballs.length} tarballs into ${projectDir}`);

  const shippedBins = new Set();
  for (const pkg of packages) {
    const installedManifest = join(projectDir, 'node_modules', ...pkg.name.split('/'), 'package.json');
    if (!existsSync(installedManifest)) {
      fail(`${pkg.name}: not installed in the project`);
      continue;
    }
    const name = JSON.stringify(pkg.name);
    const esm = run(
      'node',
      ['--input-type=module', '-e', `const m = await import(${name}); console.log(JSON.stringify(Object.keys(m).sort()))`],
      { cwd: projectDir },
    );
    const cjs = run('node', ['-e', `console.log(JSON.stringify(Object.keys(require(${name})).sort()))`], { cwd: projectDir });
    const esmNames = esm.ok ? esm.stdout.trim() : undefined;
    const cjsNames = cjs.ok ? cjs.stdout.trim() : undefined;
    if (esmNames === undefined) fail(`${pkg.name}: import()`, esm.output);
    else if (esmNames === '[]') fail(`${pkg.name}: import() gave a module without exports`);
    else pass(`${pkg.name}: import() -> ${esmNames}`);
    if (cjsNames === undefined) fail(`${pkg.name}: require()`, cjs.output);
    else if (cjsNames === '[]') fail(`${pkg.name}: require() gave a module without exports`);
    else pass(`${pkg.name}: require()`);
    if (esmNames !== undefined && cjsNames !== undefined && esmNames !== cjsNames) {
      fail(`${pkg.name}: import() and require() export different names`, `import:  ${esmNames}\nrequire: ${cjsNames}`);
    }

    for (const bin of binNames(JSON.parse(readFileSync(installedManifest, 'utf8')))) {
      shippedBins.add(bin);
      // --no: never fetch a same-named package from the registry if ours is missing.
      const help = run('npx', ['--no', bin, '--help'], { cwd: projectDir, stdio: ['ignore', 'pipe', 'pipe'] });
      if (!help.ok) fail(`${pkg.name}: \`npx ${bin} --help\` exited ${help.status ?? help.signal}`, help.output);
      else if (help.stdout.trim() === '') fail(`${pkg.name}: \`npx ${bin} --help\` printed nothing`);
      else pass(`${pkg.name}: npx ${bin} --help`);
    }
  }
  for (const bin of expectedBins) {
    if (!shippedBins.has(bin)) fail(`no package ships the command ${bin}`);
  }
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
} finally {
  if (process.env.COMM_SMOKE_KEEP) console.log(`kept ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`smoke: ${failures.length} failed`);
  process.exit(1);
}
console.log('smoke: all passed');
