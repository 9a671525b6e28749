import { describe, expect, it } from 'vitest';
import * as proxy from './index.js';

describe('the proxy module', () => {
  it('exports the parser, its default bound, the TLV types and both errors, and nothing else', () => {
    expect(Object.keys(proxy).sort()).toEqual([
      'DEFAULT_PROXY_V2_MAX_LENGTH',
      'PROXY_TLV_TYPES',
      'ProxyHeaderError',
      'ProxyHeaderParser',
      'ProxyHeaderTimeoutError',
    ]);
  });
});
