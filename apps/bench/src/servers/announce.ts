import type { AddressInfo } from 'node:net';

/**
 * How every server child tells the runner where it listens: one JSON line on stdout,
 * `{"port":12345,"pid":678}`, then it serves until SIGTERM or SIGINT.
 */
export function announceListening(address: AddressInfo | string | null, extra: Record<string, unknown> = {}): void {
  if (address === null || typeof address === 'string') throw new Error('server child must listen on TCP');
  process.stdout.write(`${JSON.stringify({ port: address.port, pid: process.pid, ...extra })}\n`);
}

/** Stops the child on a signal; `close` gets a moment to run, then the process exits regardless. */
export function exitOnSignal(close?: () => Promise<unknown>): void {
  const stop = (): void => {
    setTimeout(() => process.exit(0), 2000).unref();
    void (close?.() ?? Promise.resolve()).finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
