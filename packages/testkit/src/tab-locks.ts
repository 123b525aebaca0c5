/** tabLocks: the Web Locks API's exclusive locks for tab groups simulated in one Node process. */
import type { TabLocks } from '@weft/client'

interface Waiter {
  readonly grant: () => void
}

/**
 * A lock manager shared by the simulated tabs of one test (Node has no `navigator.locks`):
 * exclusive locks granted in request order, `ifAvailable` (the callback gets `null` when the lock
 * is held) and `signal` (a queued request is withdrawn with an AbortError), as in browsers. A
 * lock is released when its callback's promise settles.
 */
export const tabLocks = (): TabLocks => {
  const held = new Set<string>()
  const queues = new Map<string, Waiter[]>()
  const release = (name: string): void => {
    const next = queues.get(name)?.shift()
    if (next === undefined) {
      held.delete(name)
      queues.delete(name)
    } else next.grant()
  }
  return {
    request<T>(
      name: string,
      options: { readonly ifAvailable?: boolean; readonly signal?: AbortSignal },
      callback: (lock: unknown) => Promise<T> | T,
    ): Promise<T> {
      const run = async (): Promise<T> => {
        try {
          return await callback({ name })
        } finally {
          release(name)
        }
      }
      if (!held.has(name)) {
        held.add(name)
        return run()
      }
      if (options.ifAvailable) return Promise.resolve(callback(null))
      return new Promise<T>((resolve, reject) => {
        const waiter: Waiter = {
          grant: () => {
            run().then(resolve, reject)
          },
        }
        const queue = queues.get(name) ?? []
        queue.push(waiter)
        queues.set(name, queue)
        options.signal?.addEventListener('abort', () => {
          const index = queue.indexOf(waiter)
          if (index < 0) return
          queue.splice(index, 1)
          reject(new DOMException('the lock request was aborted', 'AbortError'))
        })
      })
    },
  }
}
