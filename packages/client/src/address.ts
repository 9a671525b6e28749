import { readFileSync, readdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { DEFAULT_PORT, InvalidOptionError, formatEndpoint } from '@comm/protocol';
import { FlowinfoUnsupportedError } from './errors.js';

/** The largest IPv6 flow label (20 bits). */
const MAX_FLOWINFO = 0xfffff;

/** The parts of an address a caller may give, as in Python's `(host, port, flowinfo, scope_id)`. */
export interface AddressInput {
  host: string;
  port?: number | undefined;
  family?: 0 | 4 | 6 | undefined;
  scopeId?: string | number | undefined;
  flowinfo?: number | undefined;
}

/** A checked address, ready for `net.connect`. */
export interface Target {
  /** The host for `net.connect`: a name, or an address without brackets, with `%scope` if any. */
  host: string;
  port: number;
  /** 0 lets Node pick (and fall back between families); 4 or 6 forces one. */
  family: 0 | 4 | 6;
  /** How errors name the address: `host:port`, an IPv6 address in brackets. */
  display: string;
}

function checkPort(port: number | undefined): number {
  if (port === undefined) return DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidOptionError(`port must be a whole number from 1 to 65535, got ${String(port)}`);
  }
  return port;
}

function checkFamily(family: unknown): 0 | 4 | 6 {
  if (family === undefined || family === 0) return 0;
  if (family === 4 || family === 6) return family;
  throw new InvalidOptionError(`family must be 4, 6 or 0 (either), got ${String(family)}`);
}

function checkFlowinfo(flowinfo: number | undefined): void {
  if (flowinfo === undefined || flowinfo === 0) return;
  if (!Number.isInteger(flowinfo) || flowinfo < 0 || flowinfo > MAX_FLOWINFO) {
    throw new InvalidOptionError(`flowinfo must be a 20-bit flow label (0 to ${MAX_FLOWINFO}), got ${String(flowinfo)}`);
  }
  throw new FlowinfoUnsupportedError(flowinfo);
}

function checkScopeId(scopeId: string | number): string {
  if (typeof scopeId === 'number') {
    if (!Number.isInteger(scopeId) || scopeId < 0) {
      throw new InvalidOptionError(`scopeId must be an interface name or index >= 0, got ${String(scopeId)}`);
    }
    return String(scopeId);
  }
  if (scopeId === '' || /[\s%\]]/.test(scopeId)) {
    throw new InvalidOptionError(`scopeId must be an interface name or index, got '${scopeId}'`);
  }
  return scopeId;
}

/**
 * The interface name for a numeric scope. Node (libuv) reads the text after `%` as an
 * interface name on Unix, so an index such as Python's `scope_id` has to become a name;
 * Linux lists each interface's index in /sys. Windows takes indexes as they are.
 */
function scopeAsNodeTakesIt(scope: string): string {
  if (!/^\d+$/.test(scope) || process.platform === 'win32') return scope;
  let names: string[] = [];
  try {
    names = readdirSync('/sys/class/net');
  } catch {
    throw new InvalidOptionError(`scope ${scope} is an interface index; on this system give the interface name instead`);
  }
  for (const name of names) {
    try {
      if (readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim() === scope) return name;
    } catch {
      // An interface that went away while we looked.
    }
  }
  throw new InvalidOptionError(`no network interface has index ${scope}`);
}

/**
 * A link-local address is ambiguous without its interface. Node 20 then fails with EINVAL,
 * while newer Node versions pick an interface themselves (and ignore an unknown one), so
 * both cases are refused here, before any packet leaves.
 */
function checkScope(host: string): string {
  const percent = host.indexOf('%');
  const address = percent === -1 ? host : host.slice(0, percent);
  if (percent === -1) {
    if (/^fe[89ab][0-9a-f]:/i.test(address)) {
      throw new InvalidOptionError(`${address} is a link-local address: give its interface, e.g. ${address}%eth0, or scopeId`);
    }
    return host;
  }
  const scope = scopeAsNodeTakesIt(host.slice(percent + 1));
  if (!/^\d+$/.test(scope) && !Object.hasOwn(networkInterfaces(), scope)) {
    throw new InvalidOptionError(`no network interface named '${scope}' for ${address}`);
  }
  return `${address}%${scope}`;
}

/**
 * Checks an address as a caller gives it and turns it into what `net.connect` takes.
 * Accepts a host name, an IPv4 address, an IPv6 address with or without brackets, a scoped
 * link-local address (`fe80::1%eth0`) or an IPv6 address plus `scopeId`.
 *
 * @throws {InvalidOptionError} for a malformed host, port, family or scope.
 * @throws {FlowinfoUnsupportedError} for a non-zero `flowinfo`.
 * @example
 * ```ts
 * resolveTarget({ host: 'fe80::1', scopeId: 'eth0' });
 * // { host: 'fe80::1%eth0', port: 2000, family: 0, display: '[fe80::1%eth0]:2000' }
 * ```
 */
export function resolveTarget(input: AddressInput): Target {
  const port = checkPort(input.port);
  const family = checkFamily(input.family);
  checkFlowinfo(input.flowinfo);
  if (typeof input.host !== 'string' || input.host === '') {
    throw new InvalidOptionError('host must be a non-empty string');
  }
  let host = input.host;
  const bracketed = host.startsWith('[') && host.endsWith(']');
  if (bracketed) host = host.slice(1, -1);
  // The URL form of a scope (`%25eth0`, RFC 6874) is what people paste from browsers.
  host = host.replace(/%25(?=[^%]+$)/, '%');
  const literalFamily = isIP(host);
  if (bracketed && literalFamily !== 6) {
    throw new InvalidOptionError(`only an IPv6 address goes in brackets, got '${input.host}'`);
  }
  if (input.scopeId !== undefined && input.scopeId !== 0) {
    const scope = checkScopeId(input.scopeId);
    if (literalFamily !== 6) {
      throw new InvalidOptionError(`scopeId needs an IPv6 address, got '${input.host}'`);
    }
    const existing = host.indexOf('%');
    if (existing !== -1 && host.slice(existing + 1) !== scope) {
      throw new InvalidOptionError(`two different scopes: '${input.host}' and scopeId '${scope}'`);
    }
    if (existing === -1) host = `${host}%${scope}`;
  }
  if (literalFamily === 6) host = checkScope(host);
  if (literalFamily !== 0 && family !== 0 && literalFamily !== family) {
    throw new InvalidOptionError(`family ${family} was asked but ${host} is an IPv${literalFamily} address`);
  }
  if (literalFamily === 0 && /[\s[\]/%]/.test(host)) {
    throw new InvalidOptionError(`not a host name or IP address: '${input.host}'`);
  }
  return { host, port, family, display: formatEndpoint(host, port) };
}
