/** @weft/service-client: the relay's HTTP API for backend services — documents, records, feed, webhooks. */
export { WeftServiceClient } from './service-client.js'
export type { ServiceClientOptions, TokenSource } from './service-client-options.js'
export type {
  DocumentRead,
  FeedEvent,
  FeedPage,
  ReadFeedOptions,
  RecordChange,
  RecordsSaved,
  WriteOptions,
  WriteSaved,
} from './api-types.js'
export type { FollowOptions, FollowRetry } from './feed-follower.js'
export { DEFAULT_FOLLOW_BACKOFF, followDelayMs, type FollowBackoff } from './follow-backoff.js'
export { MAX_RECORD_CHANGES } from './record-change-checks.js'
export { parseWebhookDelivery, type WebhookDelivery } from './webhook-delivery.js'
export {
  verifyWebhookRequest,
  type RequestHeaders,
  type WebhookRequestVerification,
} from './verify-webhook-request.js'
export {
  verifyWebhook,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TOLERANCE_SEC,
  WeftError,
  isWeftError,
  type ErrorCode,
  type WebhookVerification,
} from '@weft/protocol'
export type { ChangeEvent, JsonValue, RecordJson } from '@weft/doc'
