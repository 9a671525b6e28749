// Admission: who may connect to a comm server, and how many at once. Not yet exported from the
// package's main index; a server wires it in at accept.
export { parseCidrList, type AddressList } from './cidr.js';
export {
  AdmissionControl,
  type Admission,
  type Admitted,
  type Refused,
  type RefusalReason,
  type RefusalCounts,
  type AdmissionCounts,
  type AdmissionRules,
} from './limits.js';
export { ADMISSION_OPTIONS, createAdmissionControl, type AdmissionOptions, type AdmissionValues } from './options.js';
