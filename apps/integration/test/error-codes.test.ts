// The registry of codes in @comm/protocol is the one list: every code a package's source uses
// is in it, and every package README tables the codes it names.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES } from '@comm/protocol';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const packagesDir = join(root, 'packages');

function sourcesOf(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

const CODE = /'(COMM_[A-Z0-9_]+)'/g;

describe('the error code registry', () => {
  const packages = readdirSync(packagesDir);

  it.each(packages)('every code in the source of %s is registered in ERROR_CODES', (name) => {
    const used = new Set<string>();
    for (const file of sourcesOf(join(packagesDir, name, 'src'))) {
      for (const match of readFileSync(file, 'utf8').matchAll(CODE)) used.add(match[1] as string);
    }
    const unregistered = [...used].filter((code) => !(code in ERROR_CODES));
    expect(unregistered).toEqual([]);
  });

  it.each(packages)('the README of %s tables every code its source raises', (name) => {
    const readme = readFileSync(join(packagesDir, name, 'README.md'), 'utf8');
    const used = new Set<string>();
    for (const file of sourcesOf(join(packagesDir, name, 'src'))) {
      for (const match of readFileSync(file, 'utf8').matchAll(CODE)) used.add(match[1] as string);
    }
    const untabled = [...used].filter((code) => !readme.includes(`| \`${code}\``));
    expect(untabled).toEqual([]);
  });

  it('every registered code is used by some package', () => {
    const all = packages.flatMap((name) => sourcesOf(join(packagesDir, name, 'src')).map((file) => readFileSync(file, 'utf8')));
    const unused = Object.keys(ERROR_CODES).filter(
      (code) => code !== 'COMM_ERROR' && !all.some((text) => text.includes(`'${code}'`)),
    );
    expect(unused).toEqual([]);
  });
});
