import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../src/index.js';
import { track } from '@comm/test-helpers';
import { cleanUp, runCli, startPeer, uniqueSuffix, type RunningPeer } from './helpers.js';

/**
 * A link-local address only means something with its interface (its scope), so this test
 * builds a link of its own: a network namespace with one end of a veth pair in it, the
 * other end here, fe80:: addresses on both (nodad: usable at once), and the chapter's echo
 * server inside the namespace. Names are unique per run and everything is removed after.
 */
const suffix = uniqueSuffix();
const namespace = `comm-ll-${suffix}`;
const hostLink = `cl${suffix}a`;
const nsLink = `cl${suffix}b`;
const hostAddress = 'fe80::c0:1';
const serverAddress = 'fe80::c0:2';

let notPossible: string | undefined;
let peer: RunningPeer | undefined;

function run(...argv: string[]): void {
  const result = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`${argv.join(' ')}: ${result.stderr || result.error?.message || `exit ${result.status}`}`);
}

function removeLink(): void {
  // Deleting one end of a veth pair deletes both; the namespace goes after its processes.
  spawnSync('ip', ['link', 'del', hostLink]);
  spawnSync('ip', ['netns', 'del', namespace]);
}

beforeAll(async () => {
  if (process.platform !== 'linux') {
    notPossible = 'network namespaces exist on Linux only';
    return;
  }
  try {
    run('ip', 'netns', 'add', namespace);
  } catch (error) {
    notPossible = `network namespaces are not allowed here (needs root or CAP_SYS_ADMIN): ${(error as Error).message.trim()}`;
    return;
  }
  try {
    run('ip', 'link', 'add', hostLink, 'type', 'veth', 'peer', 'name', nsLink);
    run('ip', 'link', 'set', nsLink, 'netns', namespace);
    run('ip', 'addr', 'add', `${hostAddress}/64`, 'dev', hostLink, 'nodad');
    run('ip', 'link', 'set', hostLink, 'up');
    run('ip', 'netns', 'exec', namespace, 'ip', 'addr', 'add', `${serverAddress}/64`, 'dev', nsLink, 'nodad');
    run('ip', 'netns', 'exec', namespace, 'ip', 'link', 'set', nsLink, 'up');
    peer = await startPeer('echo', '::', ['ip', 'netns', 'exec', namespace]);
  } catch (error) {
    removeLink();
    throw error;
  }
});

// The peer lives for the whole file, so peers and clients are cleaned up once, at the end.
afterAll(async () => {
  await cleanUp();
  if (notPossible === undefined) removeLink();
});

describe('IPv6 link-local with a scope, in a network namespace made by the test', () => {
  it('connects to fe80::…%interface and talks both ways', async (context) => {
    if (notPossible !== undefined || peer === undefined) return context.skip(notPossible);
    const client = track(await connect(`${serverAddress}%${hostLink}`, peer.port));
    expect(client.address).toBe(`[${serverAddress}%${hostLink}]:${peer.port}`);
    expect(await client.request('link-local 🔗 ñ')).toBe('link-local 🔗 ñ');
    await client.close();
  });

  it('takes the 4-tuple form: the address plus scopeId, by name or by interface index', async (context) => {
    if (notPossible !== undefined || peer === undefined) return context.skip(notPossible);
    const byName = track(await connect({ host: serverAddress, port: peer.port, flowinfo: 0, scopeId: hostLink }));
    expect(await byName.request('by name')).toBe('by name');
    const index = Number(readFileSync(`/sys/class/net/${hostLink}/ifindex`, 'utf8'));
    const byIndex = track(await connect({ host: `[${serverAddress}]`, port: peer.port, scopeId: index }));
    expect(await byIndex.request('by index')).toBe('by index');
  });

  it('without a scope the address is ambiguous: refused with COMM_INVALID_OPTION, nothing sent', async (context) => {
    if (notPossible !== undefined || peer === undefined) return context.skip(notPossible);
    await expect(connect(serverAddress, peer.port)).rejects.toMatchObject({
      code: 'COMM_INVALID_OPTION',
      message: `${serverAddress} is a link-local address: give its interface, e.g. ${serverAddress}%eth0, or scopeId`,
    });
  });

  it('the comm command takes fe80::…%interface as HOST', async (context) => {
    if (notPossible !== undefined || peer === undefined) return context.skip(notPossible);
    const result = await runCli([`${serverAddress}%${hostLink}`, String(peer.port)], 'over the link\n');
    expect(result).toMatchObject({ code: 0, stdout: 'over the link\n', stderr: '' });
  });
});
