/**
 * Direct access to the IndexedDB database behind a LevelLocalStore, as another program would have
 * it: browser-level keeps database `level-js-<location>`, object store `<location>`, keys and
 * values as bytes.
 */

const openRaw = (location: string): Promise<IDBDatabase> =>
  new Promise((resolve, reject) => {
    const request = indexedDB.open(`level-js-${location}`, 1)
    request.onupgradeneeded = () => request.result.createObjectStore(location)
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })

/** Runs `work` in one transaction on the store of `location`; resolves once it completed. */
const inTransaction = async <T>(
  location: string,
  mode: IDBTransactionMode,
  work: (store: IDBObjectStore) => IDBRequest<T> | void,
): Promise<T | undefined> => {
  const db = await openRaw(location)
  try {
    return await new Promise<T | undefined>((resolve, reject) => {
      const transaction = db.transaction(location, mode)
      const request = work(transaction.objectStore(location))
      transaction.oncomplete = () => resolve(request?.result)
      transaction.onabort = () => reject(transaction.error)
    })
  } finally {
    db.close()
  }
}

/** Every key of the database of `location`, in order. */
export const rawKeys = async (location: string): Promise<string[]> => {
  const keys = await inTransaction(location, 'readonly', (store) => store.getAllKeys())
  const decoder = new TextDecoder()
  return (keys ?? []).map((key) => decoder.decode(key as ArrayBuffer))
}

/** Puts `entries` (text values) into the database of `location` in one transaction. */
export const writeRaw = async (
  location: string,
  entries: Record<string, string>,
): Promise<void> => {
  const encoder = new TextEncoder()
  await inTransaction(location, 'readwrite', (store) => {
    for (const [key, value] of Object.entries(entries))
      store.put(encoder.encode(value), encoder.encode(key))
  })
}
