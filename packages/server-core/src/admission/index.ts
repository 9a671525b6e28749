// Admission: who may connect to a comm server, and how many at once; a server asks it at accept
// (admitSocket in ../admit.ts).
export { parseCidrList, type AddressList } from './cidr.js';
export {
  AdmissionControl,
  type Admission,
  type RefusalReason,
  type RefusalCounts,
  type AdmissionCounts,
  type AdmissionRules,
} from './limits.js';
export { ADMISSION_OPTIONS, createAdmissionControl, type AdmissionOptions } from './options.js';
