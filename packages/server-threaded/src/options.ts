import { MECHANISMS } from './mechanism.js';

/** The threaded server's own options, beside those every comm server shares (`@comm/server-core`). */
export const THREADED_OPTIONS = {
  /** Worker threads. Default `os.availableParallelism()`. */
  threads: { kind: 'count', flag: 'threads', min: 1, max: 1024, help: 'worker threads (default: the available parallelism)' },
  /**
   * How connections reach the workers; `'auto'` (default) takes the best this runtime supports:
   * `'transfer'`, else `'reuse-port'`, else `'main-thread-io'`.
   */
  mechanism: {
    kind: 'choice',
    flag: 'mechanism',
    choices: ['auto', ...MECHANISMS],
    default: 'auto',
    help: 'how connections reach the threads: the best available, or one by name',
  },
} as const;
