import { InvalidOptionError } from '@comm/protocol';
import { formatOptionsHelp, parseCommandLine } from '@comm/protocol/options';
import { describe, expect, it } from 'vitest';
import { ADMISSION_OPTIONS, AdmissionControl, createAdmissionControl, parseCidrList } from './index.js';

describe('ADMISSION_OPTIONS', () => {
  it('reads the four flags from a command line', () => {
    const argv = ['--allow', '10.0.0.0/8,::1', '--deny=10.0.0.7', '--max-connections', '100', '--max-connections-per-address=4'];
    expect(parseCommandLine(ADMISSION_OPTIONS, argv).options).toEqual({
      allow: '10.0.0.0/8,::1',
      deny: '10.0.0.7',
      maxConnections: 100,
      maxConnectionsPerAddress: 4,
    });
  });

  it('takes no limit of 0', () => {
    expect(() => parseCommandLine(ADMISSION_OPTIONS, ['--max-connections', '0'])).toThrow(
      '--max-connections must be a whole number >= 1, got 0',
    );
    expect(() => parseCommandLine(ADMISSION_OPTIONS, ['--max-connections-per-address', 'lots'])).toThrow(InvalidOptionError);
  });

  it('has a help line for each, saying that the limits are unlimited by default', () => {
    const help = formatOptionsHelp(ADMISSION_OPTIONS);
    expect(help).toMatch(/--allow <cidrs> +only these may connect/);
    expect(help).toMatch(/--deny <cidrs> +these may not connect/);
    expect(help).toMatch(/--max-connections <n> +most connections open at once \(default unlimited\)\n/);
    expect(help).toMatch(/--max-connections-per-address <n> +most connections .* one client address \(default unlimited\)\n/);
  });
});

describe('createAdmissionControl', () => {
  it('admits everyone without options', () => {
    const admission = createAdmissionControl();
    expect(admission).toBeInstanceOf(AdmissionControl);
    expect(admission.admit('192.0.2.1').admit).toBe(true);
  });

  it('builds the control from what the command line read', () => {
    const { options } = parseCommandLine(ADMISSION_OPTIONS, [
      '--allow',
      '10.0.0.0/8,::1',
      '--deny',
      '10.0.0.7',
      '--max-connections-per-address',
      '1',
    ]);
    const admission = createAdmissionControl(options);
    expect(admission.admit('10.0.0.7')).toEqual({ admit: false, reason: 'denied' });
    expect(admission.admit('192.0.2.1')).toEqual({ admit: false, reason: 'not-allowed' });
    expect(admission.admit('::ffff:10.1.1.1').admit).toBe(true);
    expect(admission.admit('10.1.1.1')).toEqual({ admit: false, reason: 'max-connections-per-address' });
  });

  it('takes the lists of the library as a string or an array', () => {
    for (const allow of ['127.0.0.1,::1', ['127.0.0.1', '::1']]) {
      const admission = createAdmissionControl({ allow, maxConnections: 1 });
      expect(admission.admit('192.0.2.1')).toEqual({ admit: false, reason: 'not-allowed' });
      expect(admission.admit('::1').admit).toBe(true);
      expect(admission.admit('127.0.0.1')).toEqual({ admit: false, reason: 'max-connections' });
    }
  });

  it('ignores options that are not its own, so a server may pass all of its options', () => {
    const serverOptions = { port: 0, lineTimeout: 1000, deny: ['192.0.2.0/24'] };
    expect(createAdmissionControl(serverOptions).admit('192.0.2.9').admit).toBe(false);
  });

  it('names the option and the entry that is bad', () => {
    expect(() => createAdmissionControl({ allow: '10.0.0.0/8,10.0.0.0/40' })).toThrow(
      'allow entry "10.0.0.0/40" has a bad prefix length: IPv4 takes /0 to /32',
    );
    expect(() => createAdmissionControl({ deny: ['::1', 'nope'] })).toThrow('deny entry "nope" is not an IPv4 or IPv6 address');
    expect(() => createAdmissionControl({ deny: [] })).toThrow('deny must name at least one address or CIDR');
    expect(() => createAdmissionControl({ allow: 42 as never })).toThrow(InvalidOptionError);
  });

  it('refuses a limit out of range, in the words of the option table', () => {
    expect(() => createAdmissionControl({ maxConnections: 0 })).toThrow('maxConnections must be a whole number >= 1, got 0');
    expect(() => createAdmissionControl({ maxConnectionsPerAddress: 2.5 })).toThrow(
      'maxConnectionsPerAddress must be a whole number >= 1, got 2.5',
    );
  });

  it('gives the same answers as a control built by hand', () => {
    const byOptions = createAdmissionControl({ allow: '2001:db8::/32', maxConnectionsPerAddress: 1 });
    const byHand = new AdmissionControl({ allow: parseCidrList(['2001:db8::/32'], 'allow'), maxConnectionsPerAddress: 1 });
    for (const address of ['2001:db8::1', '2001:db8::1', '2001:db9::1', '::1']) {
      const [mine, theirs] = [byOptions.admit(address), byHand.admit(address)];
      expect(mine.admit ? 'admitted' : mine.reason).toBe(theirs.admit ? 'admitted' : theirs.reason);
    }
    expect(byOptions.counts()).toEqual(byHand.counts());
  });
});
