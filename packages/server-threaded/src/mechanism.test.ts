import { describe, expect, it } from 'vitest';
import { availableMechanisms, detectCapabilities, probeReusePort, probeSocketTransfer } from './mechanism.js';

const major = Number(process.versions.node.split('.')[0]);

describe('capability detection', () => {
  it('finds out by trying, once per process, and always offers main-thread-io', async () => {
    const first = detectCapabilities();
    expect(detectCapabilities()).toBe(first);
    const capabilities = await first;
    const available = await availableMechanisms();
    expect(available.at(-1)).toBe('main-thread-io');
    expect(available.includes('transfer')).toBe(capabilities.socketTransfer);
    expect(available.includes('reuse-port')).toBe(capabilities.reusePort);
  });

  it('the probes agree with themselves on a second run', async () => {
    const { socketTransfer, reusePort } = await detectCapabilities();
    expect(await probeSocketTransfer()).toBe(socketTransfer);
    expect(await probeReusePort()).toBe(reusePort);
  });

  // What was measured on this project's Linux machines (see the README's table).
  it.runIf(major === 20)('Node 20 can neither transfer sockets nor share a port', async () => {
    expect(await detectCapabilities()).toMatchObject({ socketTransfer: false, reusePort: false });
  });

  it.runIf(major >= 24 && process.platform === 'linux')('Node 24 and later on Linux can do both', async () => {
    expect(await detectCapabilities()).toMatchObject({ socketTransfer: true, reusePort: true });
  });
});
