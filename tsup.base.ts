import type { Options } from 'tsup';

/** The one build shape every published package shares: ESM + CJS + d.ts for Node 20. */
export function packageBuild(entry: Record<string, string> | string[] = ['src/index.ts']): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    // One chunk for code that several entries share, so a class is one class in all of them.
    splitting: true,
    shims: true,
  };
}
