/** Protocol versions of the Weft dialect, with the history of every change. */

/**
 * The newest Weft protocol version this code speaks.
 *
 * History:
 * - 1: first version: hello/welcome, open/close, sync steps, update, updates (a batch),
 *   awareness, saved, rejected, error, refresh-token, ping/pong.
 * - 2: `compressed` (tag 15): any other frame deflated, when both sides speak 2.
 * - 3: `chunk` (tag 16) and `resume` (tag 17): a frame too large to travel whole goes in
 *   numbered pieces, paced by the receiver and resumed after a reconnect.
 * - 4: `traced` (tag 18): a client's `update` or `updates` frame with the trace context of each
 *   update, so the relay's spans continue the traces the client's edits started.
 */
export const PROTOCOL_VERSION = 4

/** The first protocol version with `compressed` frames. */
export const COMPRESSION_VERSION = 2

/** The first protocol version with `chunk` and `resume`. */
export const CHUNKING_VERSION = 3

/** The first protocol version with `traced` frames. */
export const TRACING_VERSION = 4

/** The oldest Weft protocol version this code still speaks. */
export const MIN_PROTOCOL_VERSION = 1

/** WebSocket subprotocol that selects the Weft dialect; without it a socket speaks y-websocket. */
export const WEFT_SUBPROTOCOL = 'weft'
