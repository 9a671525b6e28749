// The receiver side of the PROXY protocol (haproxy's doc/proxy-protocol.txt), fed the first
// chunks of a connection in whatever pieces they arrive.
import { Buffer } from 'node:buffer';
import { InvalidOptionError } from '@comm/protocol';
import { ProxyHeaderError } from './errors.js';
import type { ProxyHeader } from './header.js';
import { parseV1Line, V1_MAX_LENGTH, V1_PREFIX } from './v1.js';
import { parseV2Block, parseV2Prefix, V2_FIXED_LENGTH, V2_SIGNATURE, type V2Prefix } from './v2.js';

/**
 * Which PROXY versions a listener accepts: `'v1'` (text), `'v2'` (binary) or `'any'`, which
 * tells them apart by the first byte (`P` or CR). Even `'any'` expects a header: the spec forbids
 * guessing whether one is there, since anyone could then send one and pass for someone else.
 *
 * @example
 * ```ts
 * new ProxyHeaderParser({ mode: 'v2' }); // behind a proxy that sends v2 only
 * ```
 */
export type ProxyHeaderMode = 'v1' | 'v2' | 'any';

/**
 * Options of {@link ProxyHeaderParser}.
 *
 * @example
 * ```ts
 * new ProxyHeaderParser({ mode: 'any', maxV2Length: 1024 });
 * ```
 */
export interface ProxyHeaderParserOptions {
  /** Default `'any'`. */
  readonly mode?: ProxyHeaderMode;
  /**
   * The largest v2 length field accepted (the bytes after the fixed 16: addresses and TLVs), an
   * integer in 0-65535; default {@link DEFAULT_PROXY_V2_MAX_LENGTH}. A longer header is refused as
   * soon as its 16th byte arrives, so a connection never makes the parser hold more than
   * 16 + this many bytes.
   */
  readonly maxV2Length?: number;
}

/**
 * The default bound on a v2 header's length field: 4096 bytes. The spec sizes a header to fit in
 * the smallest TCP segment (536 bytes) and real senders stay under 1 KiB with every TLV they send
 * (addresses 12-216 bytes, SNI up to 255, a unique ID up to 128, the SSL TLV's version, CN,
 * cipher and algorithms, a cloud's endpoint id): 4 KiB leaves room for all of that and more,
 * while a 64 KiB length from a broken or hostile peer is refused before it is buffered.
 *
 * @example
 * ```ts
 * new ProxyHeaderParser({ maxV2Length: DEFAULT_PROXY_V2_MAX_LENGTH * 2 });
 * ```
 */
export const DEFAULT_PROXY_V2_MAX_LENGTH = 4096;

/**
 * What a {@link ProxyHeaderParser.push} says: more bytes are needed, the header is done (with the
 * bytes that came after it), or the header is invalid.
 *
 * @example
 * ```ts
 * const result = parser.push(chunk);
 * if (result.state === 'done') decoder.push(result.rest);
 * ```
 */
export type ProxyParseResult =
  | { readonly state: 'need-more' }
  | {
      readonly state: 'done';
      readonly header: ProxyHeader;
      /**
       * The bytes of the last chunk after the header, maybe none: the first bytes of the
       * connection's own protocol. A view of the caller's chunk, not a copy.
       */
      readonly rest: Buffer;
    }
  | { readonly state: 'error'; readonly error: ProxyHeaderError };

const NEED_MORE: ProxyParseResult = Object.freeze({ state: 'need-more' });
const LF = 0x0a;

/**
 * An incremental PROXY protocol v1/v2 parser for the start of one connection. Push the socket's
 * chunks as they come, split anywhere; once it says `'done'` the header is known and `rest` holds
 * the bytes after it, to hand to the line decoder as the start of the first line: no byte is lost
 * or seen twice.
 *
 * Strict per the spec: v1 is one line of at most 107 bytes with its CRLF, single spaces, valid
 * addresses and ports without leading zeros; v2 has the 12-byte signature, version 2, command
 * LOCAL or PROXY, a listed family and transport, an address block of its family's size, TLVs that
 * fit the length exactly, and a CRC32C that matches when one is sent. It never reads a byte past
 * the header, never throws from `push` or `end` (errors are returned, and the parser stays in
 * error), and never holds more than 107 bytes (v1) or 16 + `maxV2Length` bytes (v2).
 *
 * It has no clock: the caller bounds how long it waits for the header (the spec suggests a few
 * seconds, at least 3 for a TCP retransmit) and then drops the connection, reporting a
 * `ProxyHeaderTimeoutError` (`COMM_PROXY_HEADER_TIMEOUT`). It also cannot know who is allowed to
 * send a header: accept one only from trusted proxies.
 *
 * @example
 * ```ts
 * const parser = new ProxyHeaderParser({ mode: 'any' });
 * socket.on('data', (chunk) => {
 *   const result = parser.push(chunk);
 *   if (result.state === 'need-more') return;
 *   if (result.state === 'error') return socket.destroy(result.error);
 *   const peer = result.header.source ?? { address: socket.remoteAddress, port: socket.remotePort };
 *   startConversation(peer, result.rest); // rest: the first bytes of the first line
 * });
 * socket.on('end', () => parser.end()); // 'truncated' if the header never finished
 * ```
 */
export class ProxyHeaderParser {
  readonly mode: ProxyHeaderMode;
  readonly maxV2Length: number;
  /**
   * The header so far: a v1 line, or v2's fixed part and then the whole v2 header. Not zeroed
   * (`allocUnsafe`): only the bytes written from the chunks are ever read.
   */
  #buffer = Buffer.allocUnsafe(V1_MAX_LENGTH);
  #filled = 0;
  #version: 0 | 1 | 2 = 0;
  /** v2, once its 16 fixed bytes are in. */
  #prefix: V2Prefix | undefined;
  /** The outcome, once there is one: pushing more changes nothing. */
  #outcome: Exclude<ProxyParseResult, { state: 'need-more' }> | undefined;

  /** @throws InvalidOptionError for a mode or a `maxV2Length` out of range. */
  constructor(options: ProxyHeaderParserOptions = {}) {
    const { mode = 'any', maxV2Length = DEFAULT_PROXY_V2_MAX_LENGTH } = options;
    if (mode !== 'v1' && mode !== 'v2' && mode !== 'any') {
      throw new InvalidOptionError(`PROXY header mode must be 'v1', 'v2' or 'any', got ${String(mode)}`);
    }
    if (!Number.isInteger(maxV2Length) || maxV2Length < 0 || maxV2Length > 0xffff) {
      throw new InvalidOptionError(`maxV2Length must be an integer in 0-65535, got ${String(maxV2Length)}`);
    }
    this.mode = mode;
    this.maxV2Length = maxV2Length;
  }

  /** How many bytes of an unfinished header the parser holds; 0 once it is done or failed. */
  get buffered(): number {
    return this.#outcome === undefined ? this.#filled : 0;
  }

  /**
   * Feed the next chunk of the connection. After `'done'` the header's bytes are consumed and the
   * rest is the caller's; a later push is an error (`finished`) that leaves the outcome as it was.
   * After `'error'` every push returns the same error.
   *
   * @example
   * ```ts
   * parser.push(Buffer.from('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nHELLO\n'));
   * // { state: 'done', header: { version: 1, ... }, rest: <Buffer 48 45 4c 4c 4f 0a> }
   * ```
   */
  push(chunk: Uint8Array): ProxyParseResult {
    if (this.#outcome?.state === 'error') return this.#outcome;
    if (this.#outcome !== undefined) {
      return { state: 'error', error: new ProxyHeaderError('finished', 'bytes pushed after the header was done') };
    }
    try {
      return this.#feed(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (cause) {
      return this.#fail(new ProxyHeaderError('internal', 'the parser failed on this input', { cause }));
    }
  }

  /**
   * The stream ended: the outcome if there is one, else a `truncated` error (also when nothing came).
   *
   * @example
   * ```ts
   * parser.push(Buffer.from('PROXY TCP4 1.2.3.4'));
   * parser.end(); // { state: 'error', error: ProxyHeaderError { reason: 'truncated' } }
   * ```
   */
  end(): Exclude<ProxyParseResult, { state: 'need-more' }> {
    return (
      this.#outcome ?? this.#fail(new ProxyHeaderError('truncated', `the stream ended ${this.#filled} bytes into the header`))
    );
  }

  #feed(chunk: Buffer): ProxyParseResult {
    if (this.#version === 0) {
      if (chunk.length === 0) return NEED_MORE;
      const first = chunk[0];
      if (first === V1_PREFIX[0] && this.mode !== 'v2') this.#version = 1;
      else if (first === V2_SIGNATURE[0] && this.mode !== 'v1') this.#version = 2;
      else return this.#fail(this.#notProxy());
    }
    return this.#version === 1 ? this.#feedV1(chunk) : this.#feedV2(chunk);
  }

  /** Byte by byte (107 at most): the prefix checked as it comes, the line ended by the first LF. */
  #feedV1(chunk: Buffer): ProxyParseResult {
    const buffer = this.#buffer;
    for (let at = 0; at < chunk.length; ) {
      const byte = chunk[at++]!;
      const index = this.#filled++;
      buffer[index] = byte;
      if (index < V1_PREFIX.length && byte !== V1_PREFIX[index]) return this.#fail(this.#notProxy());
      if (byte === LF) return this.#finish(parseV1Line(buffer.subarray(0, this.#filled)), chunk, at);
      if (this.#filled === V1_MAX_LENGTH) {
        return this.#fail(new ProxyHeaderError('v1-too-long', `no CRLF in the first ${V1_MAX_LENGTH} bytes of the v1 line`));
      }
    }
    return NEED_MORE;
  }

  /** The 16 fixed bytes (the signature checked as it comes), then exactly the length they give. */
  #feedV2(chunk: Buffer): ProxyParseResult {
    let at = 0;
    if (this.#prefix === undefined) {
      while (this.#filled < V2_FIXED_LENGTH && at < chunk.length) {
        const byte = chunk[at++]!;
        const index = this.#filled++;
        this.#buffer[index] = byte;
        if (index < V2_SIGNATURE.length && byte !== V2_SIGNATURE[index]) return this.#fail(this.#notProxy());
      }
      if (this.#filled < V2_FIXED_LENGTH) return NEED_MORE;
      const prefix = parseV2Prefix(this.#buffer, this.maxV2Length);
      if (prefix instanceof ProxyHeaderError) return this.#fail(prefix);
      this.#prefix = prefix;
      const total = V2_FIXED_LENGTH + prefix.length;
      if (total > this.#buffer.length) {
        const grown = Buffer.allocUnsafe(total);
        this.#buffer.copy(grown, 0, 0, V2_FIXED_LENGTH);
        this.#buffer = grown;
      }
    }
    const total = V2_FIXED_LENGTH + this.#prefix.length;
    const take = Math.min(total - this.#filled, chunk.length - at);
    chunk.copy(this.#buffer, this.#filled, at, at + take);
    this.#filled += take;
    at += take;
    if (this.#filled < total) return NEED_MORE;
    return this.#finish(parseV2Block(this.#buffer.subarray(0, total), this.#prefix), chunk, at);
  }

  #notProxy(): ProxyHeaderError {
    const expected = { v1: "'PROXY '", v2: 'the v2 signature', any: "'PROXY ' or the v2 signature" }[this.mode];
    return new ProxyHeaderError('not-proxy-protocol', `the connection does not start with ${expected} (mode '${this.mode}')`);
  }

  #finish(parsed: ProxyHeader | ProxyHeaderError, chunk: Buffer, at: number): ProxyParseResult {
    if (parsed instanceof ProxyHeaderError) return this.#fail(parsed);
    this.#outcome = { state: 'done', header: parsed, rest: chunk.subarray(at) };
    return this.#outcome;
  }

  #fail(error: ProxyHeaderError): Exclude<ProxyParseResult, { state: 'need-more' }> {
    this.#outcome = { state: 'error', error };
    return this.#outcome;
  }
}
