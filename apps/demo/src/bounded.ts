/** Thrown when a step of the demo takes longer than it may: the demo never hangs. */
class StepTimeoutError extends Error {
  override readonly name = 'StepTimeoutError';
  readonly code = 'COMM_DEMO_STEP_TIMEOUT';
}

/**
 * Resolves as `promise` does, or rejects after `ms` milliseconds with a message naming `what`.
 *
 * @example
 * ```ts
 * const address = await within(server.listen(), 10_000, 'the threaded server to listen');
 * ```
 */
export function within<T>(promise: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new StepTimeoutError(`waited ${ms} ms for ${what}`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
