/**
 * @weft/server/webhooks: the change feed delivered to HTTP endpoints, signed and retried, with
 * durable cursors and dead letters.
 */
export { WebhookDispatcher, type WebhookDispatcherOptions } from './webhook-dispatcher.js'
export type { DeadLetter, WebhookEndpointStatus, WebhookEvent } from './webhook-endpoint.js'
export type { WebhookEndpointOptions } from './webhook-options.js'
