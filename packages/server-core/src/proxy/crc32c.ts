// CRC32C (Castagnoli), as RFC 4960 appendix B (and RFC 3720) define it: reflected polynomial
// 0x82F63B78, initial value and final xor 0xFFFFFFFF. Node 20 has no CRC32C of its own (zlib's
// crc32 is the IEEE polynomial), and the npm packages for it bring dependencies (tslib and the AWS
// SDK's types) or a native addon, for what is a table and a loop; it runs once per v2 header that
// carries the TLV, on at most a few KiB.

const TABLE = /* @__PURE__ */ (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * The CRC32C of `bytes`, as an unsigned 32-bit number. Pass the result of a previous call as
 * `previous` to go on over more bytes: `crc32c(b, crc32c(a))` is the CRC32C of `a` then `b`.
 *
 * @example
 * ```ts
 * crc32c(Buffer.from('123456789')); // 0xe3069283
 * ```
 */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  let crc = ~previous;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
