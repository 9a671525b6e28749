// Lists of addresses and CIDRs, as `--allow` and `--deny` take them. The matching is Node's own
// `net.BlockList`; this file only reads and checks the list text and asks the block list.
import { BlockList, isIP } from 'node:net';
import { InvalidOptionError } from '@comm/protocol';

/** A set of addresses given as CIDRs (`10.0.0.0/8`, `2001:db8::/32`) and bare addresses. */
export interface AddressList {
  /** The entries as given (trimmed), in order, e.g. for a log line or `stats()`. */
  readonly entries: readonly string[];
  /**
   * True when `address` lies in one of the entries. An IPv4 address and its IPv4-mapped IPv6 form
   * are the same address: `10.1.2.3`, `::ffff:10.1.2.3` and `::ffff:a01:203` all match `10.0.0.0/8`,
   * and `10.1.2.3` matches `::ffff:10.0.0.0/104`. So an IPv6 entry that covers `::ffff:0:0/96`
   * (such as `::/0`) covers every IPv4 address too. Anything that is not an IP address
   * (an empty string, a host name) matches nothing.
   */
  matches(address: string): boolean;
}

const PREFIX = /^\d{1,3}$/;

/** One entry → its address, prefix length and family, or the reason it is not an entry. */
function parseEntry(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | string {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  if (version === 0 || address.includes('%')) return 'is not an IPv4 or IPv6 address or CIDR (like 10.0.0.0/8 or ::1/128)';
  const bits = version === 4 ? 32 : 128;
  if (slash === -1) return { address, prefix: bits, family: version === 4 ? 'ipv4' : 'ipv6' };
  const prefixText = entry.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!PREFIX.test(prefixText) || prefix > bits) return `has a bad prefix length: IPv${version} takes /0 to /${bits}`;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** The entries of the list text, or of an array of entries. */
function splitEntries(list: unknown, optionName: string): string[] {
  if (typeof list === 'string') return list.split(',').map((entry) => entry.trim());
  if (Array.isArray(list) && list.every((entry) => typeof entry === 'string')) return list.map((entry) => entry.trim());
  throw new InvalidOptionError(`${optionName} must be a comma-separated list of CIDRs or an array of them, got ${String(list)}`);
}

class CidrList implements AddressList {
  readonly entries: readonly string[];
  private readonly blockList: BlockList;

  constructor(entries: readonly string[], blockList: BlockList) {
    this.entries = Object.freeze([...entries]);
    this.blockList = blockList;
  }

  matches(address: string): boolean {
    const version = isIP(address);
    if (version === 0) return false;
    return this.blockList.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * Reads a list of addresses and CIDRs, as the command line gives it (one string, entries
 * separated by commas, spaces around them ignored) or as the library gives it (an array of
 * entries). A bare address is a /32 (IPv4) or /128 (IPv6); host bits after the prefix are
 * ignored (`10.1.2.3/8` is `10.0.0.0/8`). Zone indexes (`fe80::1%eth0`) are not taken.
 *
 * @param optionName named in the error, e.g. `'allow'` or `'--allow'`.
 * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) naming the first bad entry; an empty
 *   list or an empty entry (`10.0.0.0/8,`) is bad too.
 * @example
 * ```ts
 * const list = parseCidrList('10.0.0.0/8,::1/128,192.168.1.7', 'allow');
 * list.matches('10.1.2.3'); // true
 * list.matches('::ffff:10.1.2.3'); // true
 * list.matches('192.168.1.8'); // false
 * ```
 */
export function parseCidrList(list: string | readonly string[], optionName: string): AddressList {
  const entries = splitEntries(list, optionName);
  if (entries.length === 0) throw new InvalidOptionError(`${optionName} must name at least one address or CIDR`);
  const blockList = new BlockList();
  for (const entry of entries) {
    const parsed = parseEntry(entry);
    if (typeof parsed === 'string') {
      throw new InvalidOptionError(
        entry === ''
          ? `${optionName} has an empty entry: ${JSON.stringify(list)}`
          : `${optionName} entry ${JSON.stringify(entry)} ${parsed}`,
      );
    }
    blockList.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return new CidrList(entries, blockList);
}
