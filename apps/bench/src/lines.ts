import { Buffer } from 'node:buffer';

/** The smallest line the generator can make: it must hold a connection id and a sequence number. */
export const MIN_LINE_BYTES = 24;

const SEQUENCE_OFFSET = 8;
const SEQUENCE_DIGITS = 12;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * The lines one connection sends: each is unique within the run (connection id and sequence
 * number in ASCII), so a lost, repeated, reordered or altered reply changes the bytes the
 * generator compares against, and a reply written to the wrong connection does too.
 *
 * Line `n` of connection 7, 64 bytes with its LF: `c000007 000000000042 abcdefgh...xyz\n`.
 */
export class LineSource {
  private readonly current: Buffer;

  constructor(
    connectionId: number,
    readonly lineBytes: number,
  ) {
    if (!Number.isSafeInteger(lineBytes) || lineBytes < MIN_LINE_BYTES) {
      throw new RangeError(`lineBytes must be a whole number >= ${MIN_LINE_BYTES}, got ${lineBytes}`);
    }
    const head = `c${String(connectionId % 1_000_000).padStart(6, '0')} ${'0'.repeat(SEQUENCE_DIGITS)} `;
    const fillerLength = lineBytes - head.length - 1;
    let filler = '';
    for (let i = 0; i < fillerLength; i++) filler += String.fromCharCode(0x61 + (i % 26));
    this.current = Buffer.from(`${head}${filler}\n`, 'latin1');
  }

  /** Writes the next `count` lines into one buffer, ready for one `write`. */
  next(count: number): Buffer {
    const lineBytes = this.lineBytes;
    const batch = Buffer.allocUnsafe(count * lineBytes);
    for (let i = 0; i < count; i++) {
      this.increment();
      this.current.copy(batch, i * lineBytes);
    }
    return batch;
  }

  /** Adds one to the ASCII sequence number in place; carries are rare, so this is a step or two. */
  private increment(): void {
    const line = this.current;
    for (let at = SEQUENCE_OFFSET + SEQUENCE_DIGITS - 1; at >= SEQUENCE_OFFSET; at--) {
      if (line[at]! !== NINE) {
        line[at] = line[at]! + 1;
        return;
      }
      line[at] = ZERO;
    }
  }
}
