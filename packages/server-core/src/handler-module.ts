import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidOptionError } from '@comm/protocol';
import type { ConnectionSetup, LineHandler } from './context.js';
import { HandlerLoadError } from './errors.js';

/**
 * What a handler module exports: the same module runs on both servers (`--handler MODULE` on
 * both commands). On the threaded server functions cannot cross threads, so each worker imports
 * the module itself; module-level variables are therefore per thread there, and
 * `context.state` is per connection on both.
 *
 * @example
 * ```js
 * // upper.mjs
 * export function setup(context) { context.state.lines = 0; }
 * export function handler(line, context) {
 *   context.state.lines += 1;
 *   return `${context.state.lines}: ${line.toUpperCase()}`;
 * }
 * ```
 */
export interface HandlerModule<State = Record<string, unknown>> {
  handler: LineHandler<State>;
  setup?: ConnectionSetup<State>;
}

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const WINDOWS_DRIVE = /^[a-z]:[\\/]/i;

/**
 * Turns the `handler` option into the URL every worker imports: a `URL` or a URL string
 * (`file:`, `data:`) as it is, a path relative to the current directory made absolute.
 * Package names are not resolved: the workers would resolve them from this package's folder,
 * not from the caller's, so they are refused with a hint.
 *
 * @throws {InvalidOptionError} for an empty value or a bare package name.
 * @example
 * ```ts
 * handlerModuleUrl('./handlers/upper.mjs'); // 'file:///home/me/app/handlers/upper.mjs'
 * ```
 */
export function handlerModuleUrl(handler: string | URL, cwd: string = process.cwd()): string {
  if (handler instanceof URL) return handler.href;
  if (typeof handler !== 'string' || handler === '') {
    throw new InvalidOptionError(`handler must be a module path or URL, got ${JSON.stringify(handler)}`);
  }
  if (URL_SCHEME.test(handler) && !WINDOWS_DRIVE.test(handler)) return new URL(handler).href;
  if (!isAbsolute(handler) && !handler.startsWith('.')) {
    throw new InvalidOptionError(
      `handler must be a path (./${handler}) or a URL, got ${JSON.stringify(handler)}: package names are not resolved`,
    );
  }
  return pathToFileURL(resolve(cwd, handler)).href;
}

function pick(source: unknown, name: string): unknown {
  return source !== null && (typeof source === 'object' || typeof source === 'function')
    ? (source as Record<string, unknown>)[name]
    : undefined;
}

/**
 * Imports a handler module and checks its exports: `handler` (a function) and optionally
 * `setup`. A CommonJS module's `module.exports.handler` counts too.
 *
 * @throws {HandlerLoadError} (`COMM_HANDLER_LOAD_FAILED`) with the import error as `cause`.
 */
export async function loadHandlerModule<State = Record<string, unknown>>(url: string): Promise<HandlerModule<State>> {
  let namespace: unknown;
  try {
    namespace = await import(url);
  } catch (error) {
    throw new HandlerLoadError(url, (error as Error)?.message ?? String(error), { cause: error });
  }
  const fallback = pick(namespace, 'default');
  const handler = pick(namespace, 'handler') ?? pick(fallback, 'handler');
  const setup = pick(namespace, 'setup') ?? pick(fallback, 'setup');
  if (typeof handler !== 'function') {
    throw new HandlerLoadError(
      url,
      `it must export a function named handler, got ${handler === undefined ? 'none' : typeof handler}`,
    );
  }
  if (setup !== undefined && typeof setup !== 'function') {
    throw new HandlerLoadError(url, `its setup export must be a function, got ${typeof setup}`);
  }
  return { handler: handler as LineHandler<State>, ...(setup === undefined ? {} : { setup: setup as ConnectionSetup<State> }) };
}
