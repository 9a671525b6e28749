// The PROXY protocol (v1 and v2) receiver: a pure parser, not wired into the servers yet.
export {
  ProxyHeaderParser,
  DEFAULT_PROXY_V2_MAX_LENGTH,
  type ProxyHeaderMode,
  type ProxyHeaderParserOptions,
  type ProxyParseResult,
} from './parse.js';
export {
  PROXY_TLV_TYPES,
  type ProxyHeader,
  type ProxyFamily,
  type ProxyTransport,
  type ProxyEndpoint,
  type ProxyTlv,
  type ProxyTlvs,
  type ProxySslInfo,
} from './header.js';
export { ProxyHeaderError, ProxyHeaderTimeoutError, type ProxyHeaderErrorReason } from './errors.js';
