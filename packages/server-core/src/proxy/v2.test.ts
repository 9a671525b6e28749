import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { ProxyHeaderParser } from './parse.js';
import { encodeV2, ipBlock, ipv4Bytes, ipv6Bytes, parseError, parseWhole, sslValue, tlv } from './proxy-test-helpers.js';

const V4 = ipBlock(ipv4Bytes('192.168.0.1'), ipv4Bytes('192.168.0.11'), 56324, 443);
const V6 = ipBlock(ipv6Bytes('2001:db8::1'), ipv6Bytes('::ffff:10.0.0.1'), 4000, 2000);

/**
 * A header from AWS's Network Load Balancer, as published with aws/elastic-load-balancing-tools:
 * TCP over IPv4, a CRC32C TLV, AWS's VPC endpoint TLV (0xEA) and a NOOP padding.
 */
const AWS_NLB = Buffer.from(
  '0d0a0d0a000d0a515549540a' +
    '21110054' +
    'ac1f0771ac1f0a1fc8f20050' +
    '030004e8d6892d' +
    'ea00170176706365' +
    '2d30386432626631356661633530303163' +
    '39' +
    '040024' +
    '00'.repeat(36),
  'hex',
);

/** A header from haproxy with its SSL TLV: TLSv1.3 and a client certificate's CN. */
const HAPROXY_SSL = Buffer.from(
  '0d0a0d0a000d0a515549540a' +
    '21110040' +
    '7f0000017f000001cc8a232e' +
    '200031' +
    '0700000000' +
    '210007' +
    Buffer.from('TLSv1.3').toString('hex') +
    '22001f' +
    Buffer.from('Example Common Name Client Cert').toString('hex'),
  'hex',
);

describe('PROXY v2: commands and families', () => {
  it('parses PROXY over TCP/IPv4, and leaves what follows the declared length as the rest', () => {
    const { header, rest } = parseWhole(Buffer.concat([encodeV2({ addresses: V4 }), Buffer.from('HELLO\n')]));
    expect(header).toEqual({
      version: 2,
      command: 'PROXY',
      family: 'IPv4',
      transport: 'stream',
      source: { address: '192.168.0.1', port: 56324 },
      destination: { address: '192.168.0.11', port: 443 },
      tlvs: { raw: [] },
      byteLength: 28,
    });
    expect(rest.toString()).toBe('HELLO\n');
  });

  it('parses UDP over IPv4 (transport dgram)', () => {
    expect(parseWhole(encodeV2({ family: 0x12, addresses: V4 })).header).toMatchObject({ family: 'IPv4', transport: 'dgram' });
  });

  it('parses PROXY over TCP/IPv6 and UDP/IPv6, addresses as Node writes them', () => {
    const { header } = parseWhole(encodeV2({ family: 0x21, addresses: V6 }));
    expect(header).toMatchObject({
      family: 'IPv6',
      transport: 'stream',
      source: { address: '2001:db8::1', port: 4000 },
      destination: { address: '::ffff:10.0.0.1', port: 2000 },
      byteLength: 52,
    });
    expect(parseWhole(encodeV2({ family: 0x22, addresses: V6 })).header.transport).toBe('dgram');
  });

  it('takes LOCAL as no endpoints, whatever address block comes with it', () => {
    const bare = parseWhole(encodeV2({ versionCommand: 0x20, family: 0x00 })).header;
    expect(bare).toEqual({
      version: 2,
      command: 'LOCAL',
      family: 'unspec',
      transport: 'unspec',
      tlvs: { raw: [] },
      byteLength: 16,
    });
    const withAddresses = parseWhole(encodeV2({ versionCommand: 0x20, family: 0x11, addresses: V4 })).header;
    expect(withAddresses).toMatchObject({ command: 'LOCAL', family: 'IPv4', byteLength: 28 });
    expect(withAddresses.source).toBeUndefined();
    expect(withAddresses.destination).toBeUndefined();
  });

  it('skips, under LOCAL, a block shorter than its family wants (its length is honoured, not assumed 0)', () => {
    const { header, rest } = parseWhole(
      Buffer.concat([encodeV2({ versionCommand: 0x20, addresses: V4.subarray(0, 5) }), Buffer.from('x')]),
    );
    expect(header).toMatchObject({ command: 'LOCAL', byteLength: 21, tlvs: { raw: [] } });
    expect(rest.toString()).toBe('x');
  });

  it('parses TLVs after the address block under LOCAL too', () => {
    const { header } = parseWhole(encodeV2({ versionCommand: 0x20, family: 0x00, tlvs: [tlv(0x02, 'health.example')] }));
    expect(header.tlvs.authority).toBe('health.example');
  });

  it('takes UNIX stream and datagram (216-byte block) as no endpoints', () => {
    const paths = Buffer.alloc(216);
    paths.write('/var/run/client.sock', 0);
    paths.write('/var/run/server.sock', 108);
    for (const family of [0x31, 0x32]) {
      const { header } = parseWhole(encodeV2({ family, addresses: paths, tlvs: [tlv(0x01, 'h2')] }));
      expect(header).toMatchObject({ command: 'PROXY', family: 'unix', byteLength: 16 + 216 + 5, tlvs: { alpn: 'h2' } });
      expect(header.source).toBeUndefined();
    }
  });

  it('takes PROXY with UNSPEC as no endpoints', () => {
    const { header } = parseWhole(encodeV2({ family: 0x00 }));
    expect(header).toMatchObject({ command: 'PROXY', family: 'unspec', transport: 'unspec', byteLength: 16 });
    expect(header.source).toBeUndefined();
  });
});

describe('PROXY v2: refused fixed parts', () => {
  it.each([
    ['version 1', 0x11, 'v2-bad-version'],
    ['version 3', 0x31, 'v2-bad-version'],
    ['version 0', 0x01, 'v2-bad-version'],
    ['command 2', 0x22, 'v2-bad-command'],
    ['command 15', 0x2f, 'v2-bad-command'],
  ])('refuses %s', (_what, versionCommand, reason) => {
    expect(parseError(encodeV2({ versionCommand, addresses: V4 })).reason).toBe(reason);
  });

  it.each([0x01, 0x02, 0x10, 0x13, 0x20, 0x23, 0x30, 0x33, 0x41, 0x40, 0xff])(
    'refuses family and transport byte 0x%s',
    (family) => {
      expect(parseError(encodeV2({ family, addresses: Buffer.alloc(216) })).reason).toBe('v2-bad-family');
    },
  );

  it('refuses a damaged signature as soon as the damaged byte comes', () => {
    const header = encodeV2({ addresses: V4 });
    for (let i = 1; i < 12; i++) {
      const damaged = Buffer.from(header);
      damaged[i] = damaged[i]! ^ 0x40;
      const parser = new ProxyHeaderParser();
      expect(parser.push(damaged.subarray(0, i)).state).toBe('need-more');
      const result = parser.push(damaged.subarray(i, i + 1));
      expect(result.state === 'error' && result.error.reason).toBe('not-proxy-protocol');
    }
  });

  it('refuses a PROXY header shorter than its address block', () => {
    expect(parseError(encodeV2({ addresses: V4.subarray(0, 11) })).reason).toBe('v2-short-address');
    expect(parseError(encodeV2({ family: 0x21, addresses: V6.subarray(0, 35) })).reason).toBe('v2-short-address');
    expect(parseError(encodeV2({ family: 0x31, addresses: Buffer.alloc(215) })).reason).toBe('v2-short-address');
  });

  it('refuses a length above maxV2Length at the 16th byte, before buffering the body', () => {
    const parser = new ProxyHeaderParser();
    const header = encodeV2({ family: 0x00, length: 4097 });
    const result = parser.push(header);
    expect(result.state === 'error' && result.error.reason).toBe('v2-too-long');
    expect(parseWhole(encodeV2({ tlvs: [tlv(0x04, Buffer.alloc(4096 - 12 - 3))], addresses: V4 })).header.byteLength).toBe(
      16 + 4096,
    );
    expect(parseError(encodeV2({ tlvs: [tlv(0x04, Buffer.alloc(100))], addresses: V4 }), { maxV2Length: 100 }).reason).toBe(
      'v2-too-long',
    );
    const max = encodeV2({ tlvs: [tlv(0x04, Buffer.alloc(0xffff - 12 - 3))], addresses: V4 });
    expect(parseWhole(max, { maxV2Length: 0xffff }).header.byteLength).toBe(16 + 0xffff);
  });
});

describe('PROXY v2: TLVs', () => {
  it('decodes ALPN, AUTHORITY, UNIQUE_ID, NETNS and NOOP, and lists every TLV in raw', () => {
    const uniqueId = Buffer.from(Array.from({ length: 128 }, (_, i) => i));
    const tlvs = [
      tlv(0x01, 'h2'),
      tlv(0x04, ''),
      tlv(0x02, 'bücher.example'),
      tlv(0x05, uniqueId),
      tlv(0x04, 'padding'),
      tlv(0x30, 'blue'),
      tlv(0xe0, Buffer.from([1, 2, 3])),
    ];
    const { header } = parseWhole(encodeV2({ addresses: V4, tlvs }));
    expect(header.tlvs).toEqual({
      alpn: 'h2',
      authority: 'bücher.example',
      uniqueId,
      netns: 'blue',
      raw: [
        { type: 0x01, value: Buffer.from('h2') },
        { type: 0x04, value: Buffer.alloc(0) },
        { type: 0x02, value: Buffer.from('bücher.example') },
        { type: 0x05, value: uniqueId },
        { type: 0x04, value: Buffer.from('padding') },
        { type: 0x30, value: Buffer.from('blue') },
        { type: 0xe0, value: Buffer.from([1, 2, 3]) },
      ],
    });
  });

  it('decodes the SSL TLV and its sub-TLVs', () => {
    const subs = [
      tlv(0x21, 'TLSv1.3'),
      tlv(0x22, 'Jörg Client'),
      tlv(0x23, 'TLS_AES_128_GCM_SHA256'),
      tlv(0x24, 'RSA-SHA256'),
      tlv(0x25, 'RSA2048'),
      tlv(0x26, 'unregistered'),
    ];
    const { header } = parseWhole(encodeV2({ addresses: V4, tlvs: [tlv(0x20, sslValue(0x05, 0x12345678, subs))] }));
    expect(header.tlvs.ssl).toEqual({
      clientFlags: 0x05,
      connectedWithSsl: true,
      certificateInConnection: false,
      certificateInSession: true,
      verify: 0x12345678,
      version: 'TLSv1.3',
      cn: 'Jörg Client',
      cipher: 'TLS_AES_128_GCM_SHA256',
      sigAlg: 'RSA-SHA256',
      keyAlg: 'RSA2048',
      raw: subs.map((sub) => ({ type: sub[0], value: sub.subarray(3) })),
    });
    const bare = parseWhole(encodeV2({ addresses: V4, tlvs: [tlv(0x20, sslValue(0, 1))] })).header.tlvs.ssl;
    expect(bare).toEqual({
      clientFlags: 0,
      connectedWithSsl: false,
      certificateInConnection: false,
      certificateInSession: false,
      verify: 1,
      raw: [],
    });
  });

  it("parses haproxy's SSL sample", () => {
    const { header } = parseWhole(HAPROXY_SSL);
    expect(header).toMatchObject({
      source: { address: '127.0.0.1', port: 52362 },
      destination: { address: '127.0.0.1', port: 9006 },
      tlvs: {
        ssl: {
          connectedWithSsl: true,
          certificateInConnection: true,
          certificateInSession: true,
          verify: 0,
          version: 'TLSv1.3',
          cn: 'Example Common Name Client Cert',
        },
      },
    });
  });

  it("verifies the CRC32C of AWS's sample, and refuses it with any one bit changed", () => {
    const { header } = parseWhole(AWS_NLB);
    expect(header).toMatchObject({
      source: { address: '172.31.7.113', port: 51442 },
      destination: { address: '172.31.10.31', port: 80 },
      tlvs: { crc32c: { checksum: 0xe8d6892d, verified: true } },
    });
    expect(header.tlvs.raw.map((t) => t.type)).toEqual([0x03, 0xea, 0x04]);
    expect(header.tlvs.raw[1]?.value.subarray(1).toString()).toBe('vpce-08d2bf15fac5001c9');
    for (const at of [16, 20, 31, 33, 60, AWS_NLB.length - 1]) {
      const damaged = Buffer.from(AWS_NLB);
      damaged[at] = damaged[at]! ^ 0x01;
      expect(parseError(damaged).reason).toBe('v2-bad-checksum');
    }
  });

  it('verifies a CRC32C wherever it stands among the TLVs', () => {
    const tlvs = [tlv(0x01, 'http/1.1'), tlv(0x02, 'example.com')];
    for (const crcAt of [0, 1, 2]) {
      const { header } = parseWhole(encodeV2({ family: 0x21, addresses: V6, tlvs, crcAt }));
      expect(header.tlvs.crc32c?.verified).toBe(true);
      expect(header.tlvs.authority).toBe('example.com');
    }
  });

  it.each([
    ['a CRC32C of 3 bytes', [tlv(0x03, Buffer.alloc(3))]],
    ['a CRC32C of 5 bytes', [tlv(0x03, Buffer.alloc(5))]],
    ['a UNIQUE_ID of 129 bytes', [tlv(0x05, Buffer.alloc(129))]],
    ['an SSL TLV of 4 bytes', [tlv(0x20, Buffer.alloc(4))]],
    ['an AUTHORITY not UTF-8', [tlv(0x02, Buffer.from([0x61, 0xff, 0x62]))]],
    ['a NETNS not US-ASCII', [tlv(0x30, 'grün')]],
    ['an SSL version not US-ASCII', [tlv(0x20, sslValue(1, 0, [tlv(0x21, 'TLSv1.3é')]))]],
    ['an SSL CN not UTF-8', [tlv(0x20, sslValue(1, 0, [tlv(0x22, Buffer.from([0xc3]))]))]],
    ['two ALPNs', [tlv(0x01, 'h2'), tlv(0x01, 'http/1.1')]],
    ['two AUTHORITYs', [tlv(0x02, 'a'), tlv(0x02, 'b')]],
    ['two SSL TLVs', [tlv(0x20, sslValue(0, 0)), tlv(0x20, sslValue(0, 0))]],
    ['two SSL ciphers', [tlv(0x20, sslValue(1, 0, [tlv(0x23, 'A'), tlv(0x23, 'B')]))]],
  ])('refuses %s', (_what, tlvs) => {
    expect(parseError(encodeV2({ addresses: V4, tlvs })).reason).toBe('v2-bad-tlv-value');
  });

  it('refuses a wrong CRC32C, and two CRC32C TLVs', () => {
    const good = encodeV2({ addresses: V4, tlvs: [tlv(0x01, 'h2')], crcAt: 1 });
    const wrong = Buffer.from(good);
    wrong[good.length - 1] = wrong[good.length - 1]! ^ 0xff;
    expect(parseError(wrong).reason).toBe('v2-bad-checksum');
    expect(parseError(encodeV2({ addresses: V4, tlvs: [tlv(0x03, Buffer.alloc(4))], crcAt: 0 })).reason).toBe('v2-bad-tlv-value');
  });

  it.each([
    ['one byte left', Buffer.from([0xe1])],
    ['two bytes left', Buffer.from([0xe2, 0x00])],
    ['a value one byte short', Buffer.from([0xe3, 0x00, 0x02, 0x00])],
    ['a value far past the end', Buffer.from([0x01, 0xff, 0xff, 0x68, 0x32])],
    ['a good TLV then a cut one', Buffer.concat([tlv(0x01, 'h2'), Buffer.from([0x02, 0x00])])],
    ['an SSL sub-TLV past its TLV', tlv(0x20, Buffer.concat([sslValue(1, 0), Buffer.from([0x21, 0x00, 0x09, 0x41])]))],
    ['an SSL sub-TLV cut short', tlv(0x20, Buffer.concat([sslValue(1, 0), Buffer.from([0x21])]))],
  ])('refuses a TLV block with %s', (_what, tlvBytes) => {
    expect(parseError(encodeV2({ addresses: V4, tlvs: [tlvBytes] })).reason).toBe('v2-bad-tlv');
  });

  it('reads TLVs only up to the declared length: bytes after it are rest, not TLVs', () => {
    const header = encodeV2({ addresses: V4, tlvs: [tlv(0x01, 'h2')] });
    const { header: parsed, rest } = parseWhole(Buffer.concat([header, tlv(0x02, 'not.mine')]));
    expect(parsed.tlvs.authority).toBeUndefined();
    expect(rest).toEqual(tlv(0x02, 'not.mine'));
  });

  it('gives TLV values that do not share memory with the caller’s chunks', () => {
    const chunk = encodeV2({ addresses: V4, tlvs: [tlv(0x05, 'id-1')] });
    const { header } = parseWhole(chunk);
    chunk.fill(0);
    expect(header.tlvs.uniqueId?.toString()).toBe('id-1');
  });
});
