/** Messages between the harness and an agent process (over Node's IPC channel). */

/** Harness → agent: call `method` with `params`. */
export interface AgentCall {
  readonly id: number
  readonly method: string
  readonly params: unknown
}

/** Agent → harness: the answer to call `id`, or a ready signal (`id` 0) when the agent starts. */
export type AgentReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string }
