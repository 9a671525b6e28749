export {
  ERROR_CODES,
  CommError,
  LineTooLongError,
  InvalidUtf8Error,
  LineHasBreakError,
  InvalidOptionError,
  isLineError,
  type CommErrorCode,
  type LineError,
} from './errors.js';
export {
  LineDecoder,
  encodeLine,
  encodeLines,
  checkMaxLineLength,
  DEFAULT_MAX_LINE_LENGTH,
  type LineDecoderOptions,
  type InvalidUtf8Policy,
  type DecodedItem,
} from './codec.js';
export {
  LineDecoderTransform,
  LineEncoderTransform,
  LineDecoderStream,
  LineEncoderStream,
  readLines,
  type LineStreamOptions,
} from './streams.js';
export { DEFAULT_PORT, formatEndpoint, errorReply, parseErrorReply, type ErrorReply } from './reply.js';
