// The admission options in the dialect of the one option table (see ../options.ts): who may
// connect (`--allow`, `--deny`) and how many at once (`--max-connections`,
// `--max-connections-per-address`). None has a default: without them every client is admitted.
import { resolveOptions, type OptionValues } from '@comm/protocol/options';
import { parseCidrList, type AddressList } from './cidr.js';
import { AdmissionControl } from './limits.js';

/** Who may connect to a server, and how many at once. */
export const ADMISSION_OPTIONS = {
  /** Only clients whose address is in these CIDRs may connect. Default: every client. */
  allow: {
    kind: 'text',
    flag: 'allow',
    valueName: '<cidrs>',
    help: 'only these may connect: addresses or CIDRs, comma-separated, e.g. 10.0.0.0/8,::1 (default everyone)',
  },
  /** Clients whose address is in these CIDRs may not connect, even when `allow` names them. */
  deny: {
    kind: 'text',
    flag: 'deny',
    valueName: '<cidrs>',
    help: 'these may not connect, even if allowed: addresses or CIDRs, comma-separated',
  },
  /** The most connections open at once on the whole server. Default: no limit. */
  maxConnections: {
    kind: 'count',
    flag: 'max-connections',
    min: 1,
    help: 'most connections open at once (default unlimited)',
  },
  /** The most connections open at once from one client address. Default: no limit. */
  maxConnectionsPerAddress: {
    kind: 'count',
    flag: 'max-connections-per-address',
    min: 1,
    help: 'most connections open at once from one client address (default unlimited)',
  },
} as const;

/** The admission options as the command line gives them, validated: lists as text. */
type AdmissionValues = OptionValues<typeof ADMISSION_OPTIONS>;

/** The admission options of the library. */
export interface AdmissionOptions extends Partial<Omit<AdmissionValues, 'allow' | 'deny'>> {
  /**
   * Only these may connect: addresses and CIDRs, as one comma-separated string
   * (`'10.0.0.0/8,::1'`, as `--allow` takes it) or as an array (`['10.0.0.0/8', '::1']`).
   * A bare address is a /32 or /128; IPv4-mapped clients (`::ffff:10.1.2.3`) match IPv4 entries.
   * Default: every client.
   */
  allow?: string | readonly string[] | undefined;
  /** These may not connect, even when `allow` names them; written like `allow`. Default: none. */
  deny?: string | readonly string[] | undefined;
}

function addressList(value: string | readonly string[] | undefined, name: string): AddressList | undefined {
  return value === undefined ? undefined : parseCidrList(value, name);
}

/**
 * Validates the admission options and builds the {@link AdmissionControl} a server asks at accept.
 * Options not in {@link ADMISSION_OPTIONS} are ignored, so a server's whole options may be passed.
 *
 * @throws {InvalidOptionError} (`COMM_INVALID_OPTION`) for a bad list entry (named) or a limit
 *   that is not a whole number >= 1.
 * @example
 * ```ts
 * const admission = createAdmissionControl({ allow: ['10.0.0.0/8', '::1'], maxConnectionsPerAddress: 8 });
 * // or from the command line:
 * createAdmissionControl(parseCommandLine(ADMISSION_OPTIONS, ['--deny', '192.168.1.7,2001:db8::/32']).options);
 * ```
 */
export function createAdmissionControl(options: AdmissionOptions = {}): AdmissionControl {
  const limits = resolveOptions(ADMISSION_OPTIONS, {
    maxConnections: options.maxConnections,
    maxConnectionsPerAddress: options.maxConnectionsPerAddress,
  });
  return new AdmissionControl({
    allow: addressList(options.allow, 'allow'),
    deny: addressList(options.deny, 'deny'),
    maxConnections: limits.maxConnections,
    maxConnectionsPerAddress: limits.maxConnectionsPerAddress,
  });
}
