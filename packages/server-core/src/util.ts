// Small helpers every part of the server core needs, written once.
import type { Server } from 'node:net';

/**
 * True for a promise or any other object or function with a `then` method: what a handler may
 * return instead of a reply, as `await` would treat it.
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** A socket or server error that is expected and handled elsewhere (or not at all). */
export function ignoreError(): void {}

/** Closes a `net.Server` if it listens; resolves once it has stopped (its connections may live on). */
export function closeNetServer(server: Server | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (server === undefined || !server.listening) resolve();
    else server.close(() => resolve());
  });
}
