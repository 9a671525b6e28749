import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { handlerModuleUrl, loadHandlerModule } from './handler-module.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));

describe('handlerModuleUrl', () => {
  it('makes a relative path absolute against the given directory', () => {
    expect(handlerModuleUrl('./h/upper.mjs', '/srv/app')).toBe('file:///srv/app/h/upper.mjs');
    expect(handlerModuleUrl('../upper.mjs', '/srv/app')).toBe('file:///srv/upper.mjs');
  });

  it('keeps absolute paths, file: and data: URLs, and URL objects', () => {
    expect(handlerModuleUrl('/opt/h.mjs')).toBe('file:///opt/h.mjs');
    expect(handlerModuleUrl('file:///opt/h.mjs')).toBe('file:///opt/h.mjs');
    expect(handlerModuleUrl(new URL('file:///opt/h%20x.mjs'))).toBe('file:///opt/h%20x.mjs');
    expect(handlerModuleUrl('data:text/javascript,export%20const%20handler=(l)=>l')).toMatch(/^data:text\/javascript,/);
  });

  it('escapes what a path may hold and a URL may not', () => {
    expect(handlerModuleUrl('/opt/a #1.mjs')).toBe(pathToFileURL('/opt/a #1.mjs').href);
  });

  it('refuses an empty value and bare package names (workers would resolve them from the wrong folder)', () => {
    expect(() => handlerModuleUrl('')).toThrow(expect.objectContaining({ code: 'COMM_INVALID_OPTION' }));
    expect(() => handlerModuleUrl('my-handlers')).toThrow(/\.\/my-handlers/);
    expect(() => handlerModuleUrl(42 as never)).toThrow(/module path or URL/);
  });
});

describe('loadHandlerModule', () => {
  it('finds handler and setup among the named exports', async () => {
    const module = await loadHandlerModule(new URL('../examples/upper.mjs', import.meta.url).href);
    expect(typeof module.handler).toBe('function');
    expect(typeof module.setup).toBe('function');
  });

  it('finds handler on module.exports of a CommonJS module', async () => {
    const module = await loadHandlerModule(pathToFileURL(fixture('commonjs-handler.cjs')).href);
    expect(await module.handler('x', {} as never)).toBe('cjs:x');
    expect(module.setup).toBeUndefined();
  });

  it('fails with COMM_HANDLER_LOAD_FAILED: the import error as cause, or what the exports lack', async () => {
    await expect(loadHandlerModule(pathToFileURL(fixture('missing.mjs')).href)).rejects.toMatchObject({
      code: 'COMM_HANDLER_LOAD_FAILED',
      cause: { code: 'ERR_MODULE_NOT_FOUND' },
    });
    await expect(loadHandlerModule(pathToFileURL(fixture('no-handler.mjs')).href)).rejects.toMatchObject({
      code: 'COMM_HANDLER_LOAD_FAILED',
      reason: 'it must export a function named handler, got none',
    });
    await expect(loadHandlerModule('data:text/javascript,export const handler = 1; export const setup = 2;')).rejects.toThrow(
      /function named handler, got number/,
    );
    await expect(
      loadHandlerModule('data:text/javascript,export const handler = (l) => l; export const setup = 2;'),
    ).rejects.toThrow(/setup export must be a function/);
  });
});
