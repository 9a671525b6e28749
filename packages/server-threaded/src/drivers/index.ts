import { assertNever } from '../exhaustive.js';
import type { Mechanism } from '../mechanism.js';
import type { Driver, DriverHost } from './driver.js';
import { MainThreadIoDriver } from './main-thread-io.js';
import { ReusePortDriver } from './reuse-port.js';
import { TransferDriver } from './transfer.js';

export type { Driver, DriverHost } from './driver.js';

/** The driver of `mechanism`, chosen once per server. */
export function createDriver(mechanism: Mechanism, host: DriverHost): Driver {
  switch (mechanism) {
    case 'transfer':
      return new TransferDriver(host);
    case 'reuse-port':
      return new ReusePortDriver(host);
    case 'main-thread-io':
      return new MainThreadIoDriver(host);
    default:
      return assertNever(mechanism, 'mechanism');
  }
}
