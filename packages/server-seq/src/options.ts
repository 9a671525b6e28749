/** The sequential server's own options, beside those every comm server shares (`@comm/server-core`). */
export const SEQUENTIAL_OPTIONS = {
  /** R16: how many clients may wait for their turn; one more gets `ERR COMM_SERVER_BUSY`. */
  maxWaiting: {
    kind: 'count',
    flag: 'max-waiting',
    min: 0,
    default: 128,
    help: 'clients that may wait; one more gets ERR COMM_SERVER_BUSY',
  },
  /** The command prints each client that waits, is turned away, or leaves. */
  verbose: {
    kind: 'switch',
    flag: 'verbose',
    default: false,
    help: 'also print each client that waits, is turned away, or leaves',
  },
} as const;
