/** @weft/protocol: the Weft wire format, error table and version negotiation. */
export {
  CHUNKING_VERSION,
  COMPRESSION_VERSION,
  PROTOCOL_VERSION,
  MIN_PROTOCOL_VERSION,
  TRACING_VERSION,
  WEFT_SUBPROTOCOL,
} from './version.js'
export {
  decodeTraceContext,
  encodeTraceContext,
  traceFrame,
  TRACE_CONTEXT_BYTES,
  untraceFrame,
  type TraceContext,
  type TracedUpdate,
} from './traced-frame.js'
export {
  compressFrame,
  DEFAULT_COMPRESS_FROM_BYTES,
  expandFrame,
  FFLATE_CODEC,
  type DeflateCodec,
} from './compression.js'
export {
  ChunkedFrame,
  CHUNK_BYTES,
  MAX_TRANSFER_ID_LENGTH,
  newTransferId,
  TRANSFER_WINDOW,
} from './chunked-frame.js'
export { TransferSender, type TransferSenderOptions } from './transfer-sender.js'
export {
  TransferReceiver,
  type ChunkOutcome,
  type TransferReceiverOptions,
} from './transfer-receiver.js'
export {
  ERROR_CODES,
  errorCodeForClose,
  errorCodeForHttpStatus,
  httpStatusForCode,
  isErrorCode,
  retryPolicyForClose,
  type ErrorCode,
  type ErrorCodeInfo,
  type ErrorScope,
  type RetryPolicy,
} from './error-codes.js'
export { WeftError, isWeftError } from './weft-error.js'
export { MESSAGE_SPECS, MESSAGE_TYPES_BY_TAG } from './messages.js'
export type * from './messages.js'
export {
  decodeDocHead,
  decodeMessage,
  encodeMessage,
  MAX_LIST_ITEMS,
  MAX_STRING_BYTES,
} from './codec.js'
export { readCheckedVarBytes, readCheckedVarUint } from './bounded-read.js'
export { negotiateVersion } from './negotiate.js'
export { checkDocName, MAX_DOC_NAME_BYTES } from './doc-name.js'
export {
  signWebhook,
  verifyWebhook,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TOLERANCE_SEC,
  type WebhookVerification,
} from './webhook-signature.js'
export { fullJitterDelayMs } from './backoff.js'
