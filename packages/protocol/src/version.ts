/** Protocol versions of the Weft dialect, with the history of every change. */

/**
 * The newest Weft protocol version this code speaks.
 *
 * History:
 * - 1: first version: hello/welcome, open/close, sync steps, update, updates (a batch),
 *   awareness, saved, rejected, error, refresh-token, ping/pong.
 */
export const PROTOCOL_VERSION = 1

/** The oldest Weft protocol version this code still speaks. */
export const MIN_PROTOCOL_VERSION = 1

/** WebSocket subprotocol that selects the Weft dialect; without it a socket speaks y-websocket. */
export const WEFT_SUBPROTOCOL = 'weft'
