import { randomBytes } from 'node:crypto'
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { logKey } from '../src/keys.js'
import { LevelStore, type LevelStoreOptions } from '../src/level-store.js'
import { sealedKeyId } from '../src/value-cipher.js'

const keyA = { id: '2026-01', key: randomBytes(32) }
const keyB = { id: '2026-02', key: randomBytes(32) }
const meta = { author: 'writer', correlationId: 'c', receivedAtMs: 1 }
const CONTENT = 'quokka-lantern-7f3a9c-content'
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const textOf = (value: Uint8Array | null): string => new TextDecoder().decode(value ?? undefined)

let path: string
const opened: LevelStore[] = []
beforeEach(async () => {
  path = await mkdtemp(join(tmpdir(), 'weft-level-crypt-'))
})
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close()
  await rm(path, { recursive: true, force: true })
})

const open = async (options: Partial<LevelStoreOptions> = {}): Promise<LevelStore> => {
  const store = await LevelStore.open({ path, ...options })
  opened.push(store)
  return store
}

/** Opens the directory with plain `level`, for looking at and altering raw values. */
const withRaw = async <T>(use: (db: Level<string, Uint8Array>) => Promise<T>): Promise<T> => {
  const db = new Level<string, Uint8Array>(path, { valueEncoding: 'view' })
  try {
    return await use(db)
  } finally {
    await db.close()
  }
}

/** Key id of every document value (null for plaintext ones). */
const keyIds = (): Promise<Array<string | null>> =>
  withRaw(async (db) =>
    (await db.iterator({ gt: 'v1:doc:', lt: 'v1:doc;' }).all()).map(([, value]) =>
      sealedKeyId(value),
    ),
  )

/** Writes `doc`: two appends, a compaction of the first, and a third append. */
const writeDoc = async (store: LevelStore, doc: string, label: string): Promise<void> => {
  await store.append(doc, [{ update: bytes(`${label} one ${CONTENT}`), meta }])
  await store.append(doc, [{ update: bytes(`${label} two`), meta }])
  await store.compact(doc, bytes(`${label} snapshot ${CONTENT}`), 1)
  await store.append(doc, [{ update: bytes(`${label} three`), meta }])
}

const expectDoc = async (store: LevelStore, doc: string, label: string): Promise<void> => {
  const loaded = await store.load(doc)
  expect(textOf(loaded.snapshot)).toBe(`${label} snapshot ${CONTENT}`)
  expect(loaded.updates.map(textOf)).toEqual([`${label} two`, `${label} three`])
  expect(loaded.headSeq).toBe(3)
}

/** Every file of the LevelDB directory (write-ahead log, tables, manifest) as one buffer. */
const filesOnDisk = async (dir: string): Promise<Buffer> => {
  const names = await readdir(dir)
  return Buffer.concat(await Promise.all(names.map((name) => readFile(join(dir, name)))))
}

describe('LevelStore with encryption', () => {
  it('leaves no content or metadata in clear in the LevelDB files', async () => {
    const store = await open({ encryption: { keys: [keyA] } })
    await writeDoc(store, 'notes', 'n')
    await expectDoc(store, 'notes', 'n')
    await store.close()
    const encrypted = await filesOnDisk(path)
    expect(encrypted.includes(CONTENT)).toBe(false)
    expect(encrypted.includes('compactedThrough')).toBe(false)
    // Keys stay in clear: they name the documents.
    expect(encrypted.includes('v1:doc:notes:snapshot')).toBe(true)

    // The same writes without encryption are found by the same scan.
    const plain = await mkdtemp(join(tmpdir(), 'weft-level-plain-'))
    try {
      const control = await LevelStore.open({ path: plain })
      await writeDoc(control, 'notes', 'n')
      await control.close()
      const clear = await filesOnDisk(plain)
      expect(clear.includes(CONTENT)).toBe(true)
      expect(clear.includes('compactedThrough')).toBe(true)
    } finally {
      await rm(plain, { recursive: true, force: true })
    }
  })

  it('rotates keys: old values stay readable, reencrypt moves them, the old key can go', async () => {
    const first = await open({ encryption: { keys: [keyA] } })
    await writeDoc(first, 'alpha', 'a')
    await first.close()
    expect(new Set(await keyIds())).toEqual(new Set([keyA.id]))

    const rotated = await open({ encryption: { keys: [keyA, keyB] } })
    await expectDoc(rotated, 'alpha', 'a')
    await writeDoc(rotated, 'beta', 'b')
    await rotated.close()
    expect(new Set(await keyIds())).toEqual(new Set([keyA.id, keyB.id]))

    const migrating = await open({ encryption: { keys: [keyA, keyB] } })
    const result = await migrating.reencrypt()
    // alpha's snapshot, metadata and two log records were under A; beta's four under B.
    expect(result).toEqual({ scanned: 8, rewritten: 4, batches: 1, complete: true })
    await migrating.close()
    expect(new Set(await keyIds())).toEqual(new Set([keyB.id]))

    const withoutA = await open({ encryption: { keys: [keyB] } })
    await expectDoc(withoutA, 'alpha', 'a')
    await expectDoc(withoutA, 'beta', 'b')
    expect(await withoutA.append('alpha', [{ update: bytes('a four'), meta }])).toBe(4)
  })

  it('seals the change feed and state records, and reencrypt rotates them too', async () => {
    const change = {
      kind: 'update' as const,
      author: `author ${CONTENT}`,
      correlationId: 'c',
      receivedAtMs: Date.now(),
      bytes: 1,
      events: [{ type: 'record.deleted' as const, collection: 'tasks', id: CONTENT }],
    }
    const first = await open({ encryption: { keys: [keyA] }, historyMs: 60_000 })
    await first.append('feed', [{ update: bytes('u'), meta }], [change])
    await first.writeState([{ key: 'hook/cursor', value: { secret: CONTENT } }])
    await first.close()
    const disk = await filesOnDisk(path)
    expect(disk.includes(CONTENT)).toBe(false)
    expect(disk.includes('prunedThrough')).toBe(false)

    const rotating = await open({ encryption: { keys: [keyA, keyB] }, historyMs: 60_000 })
    // The log record, the feed entry, the feed's meta and sequence, and the state record.
    expect(await rotating.reencrypt()).toMatchObject({ scanned: 5, rewritten: 5, complete: true })
    await rotating.close()
    const ids = await withRaw(async (db) =>
      (await db.iterator({ gt: 'v1:', lt: 'v1;' }).all())
        .filter(([key]) => key !== 'v1:format' && key !== 'v1:encryption')
        .map(([, value]) => sealedKeyId(value)),
    )
    expect(new Set(ids)).toEqual(new Set([keyB.id]))

    const withoutA = await open({ encryption: { keys: [keyB] }, historyMs: 60_000 })
    const { entries } = await withoutA.readFeed(0, 10)
    expect(entries).toEqual([{ ...change, position: 1, doc: 'feed', seq: 1 }])
    expect(await withoutA.readState('hook/')).toEqual([
      { key: 'hook/cursor', value: { secret: CONTENT } },
    ])
  })

  it('refuses a document whose key is missing, naming the key id and the document only', async () => {
    const store = await open({ encryption: { keys: [keyA] } })
    await writeDoc(store, 'team/notes', 'n')
    await store.close()

    const wrong = await open({ encryption: { keys: [keyB] } })
    const error = await wrong.load('team/notes').then(
      () => null,
      (caught: unknown) => caught as Error & { code: string },
    )
    expect(error).toMatchObject({ code: 'DECRYPTION_FAILED' })
    expect(error?.message).toMatch(/of document "team\/notes" is encrypted with key "2026-01"/)
    for (const secret of [keyA.key, keyB.key]) {
      expect(error?.message).not.toContain(Buffer.from(secret).toString('base64'))
      expect(error?.message).not.toContain(Buffer.from(secret).toString('hex'))
    }
    expect(error?.message).not.toContain(CONTENT)
    // A key with the same id but other bytes fails authentication instead.
    await wrong.close()
    const impostor = await open({ encryption: { keys: [{ id: keyA.id, key: randomBytes(32) }] } })
    await expect(impostor.load('team/notes')).rejects.toMatchObject({
      code: 'DECRYPTION_FAILED',
      message: expect.stringContaining('does not decrypt with key "2026-01"'),
    })
  })

  it('refuses to open an encrypted store without keys, and never returns sealed bytes', async () => {
    const store = await open({ encryption: { keys: [keyA] } })
    await writeDoc(store, 'notes', 'n')
    await store.close()
    await expect(LevelStore.open({ path })).rejects.toMatchObject({
      code: 'DECRYPTION_FAILED',
      message: expect.stringContaining('holds encrypted values'),
    })
    // Even with the marker gone, a sealed value read without keys is an error.
    await withRaw((db) => db.del('v1:encryption'))
    const keyless = await open()
    await expect(keyless.load('notes')).rejects.toMatchObject({
      code: 'DECRYPTION_FAILED',
      message: expect.stringContaining('opened without keys'),
    })
  })

  it('refuses altered ciphertext and a value moved under another key', async () => {
    const store = await open({ encryption: { keys: [keyA] } })
    await store.append('doc', [{ update: bytes(`one ${CONTENT}`), meta }])
    await store.append('doc', [{ update: bytes('two'), meta }])
    await store.append('other', [{ update: bytes('elsewhere'), meta }])
    await store.close()

    await withRaw(async (db) => {
      const value = (await db.get(logKey('doc', 2)))!.slice()
      value[value.length - 3]! ^= 0x40
      await db.put(logKey('doc', 2), value)
      await db.put(logKey('other', 2), (await db.get(logKey('other', 1)))!)
    })
    const reopened = await open({ encryption: { keys: [keyA] } })
    await expect(reopened.load('doc')).rejects.toMatchObject({
      code: 'DECRYPTION_FAILED',
      message: expect.stringContaining('log record 2 of document "doc" does not decrypt'),
    })
    await expect(reopened.load('other')).rejects.toMatchObject({
      message: expect.stringContaining('log record 2 of document "other" does not decrypt'),
    })
  })

  it('reads a plaintext store once keys are given, and reencrypt seals the rest', async () => {
    const plain = await open()
    await writeDoc(plain, 'old', 'o')
    await plain.close()
    const store = await open({ encryption: { keys: [keyA] } })
    await expectDoc(store, 'old', 'o')
    await writeDoc(store, 'new', 'n')
    await store.close()
    expect(await keyIds()).toContain(null)

    const again = await open({ encryption: { keys: [keyA] } })
    expect(await again.reencrypt()).toMatchObject({ scanned: 8, rewritten: 4, complete: true })
    await again.close()
    expect(new Set(await keyIds())).toEqual(new Set([keyA.id]))
    const last = await open({ encryption: { keys: [keyA] } })
    await expectDoc(last, 'old', 'o')
    await expectDoc(last, 'new', 'n')
  })

  it('continues an interrupted reencrypt where a re-run finds values still to do', async () => {
    const store = await open({ encryption: { keys: [keyA] } })
    for (let index = 0; index < 10; index++) await writeDoc(store, `doc-${index}`, `d${index}`)
    await store.close()

    const rotated = await open({ encryption: { keys: [keyA, keyB] } })
    const controller = new AbortController()
    const stopped = await rotated.reencrypt({
      maxBatchValues: 6,
      signal: controller.signal,
      onBatch: ({ batches }) => batches === 2 && controller.abort(),
    })
    expect(stopped).toEqual({ scanned: 12, rewritten: 12, batches: 2, complete: false })
    for (let index = 0; index < 10; index++) await expectDoc(rotated, `doc-${index}`, `d${index}`)
    await rotated.close()
    const ids = await keyIds()
    expect(ids.filter((id) => id === keyB.id)).toHaveLength(12)
    expect(ids.filter((id) => id === keyA.id)).toHaveLength(28)

    const rerun = await open({ encryption: { keys: [keyA, keyB] } })
    expect(await rerun.reencrypt({ maxBatchValues: 6 })).toEqual({
      scanned: 40,
      rewritten: 28,
      batches: 7,
      complete: true,
    })
    expect(await rerun.reencrypt()).toMatchObject({ rewritten: 0, complete: true })
    await rerun.close()
    expect(new Set(await keyIds())).toEqual(new Set([keyB.id]))
  })

  it('stops reencrypt with CLOSED when the store closes, leaving every value readable', async () => {
    const store = await open({ encryption: { keys: [keyA] } })
    for (let index = 0; index < 3; index++) await writeDoc(store, `doc-${index}`, `d${index}`)
    await store.close()
    const rotated = await open({ encryption: { keys: [keyA, keyB] } })
    // A holder, so the callback's assignment is not narrowed away.
    const closing: { promise: Promise<void> | null } = { promise: null }
    const reencrypting = rotated.reencrypt({
      maxBatchValues: 1,
      onBatch: () => void (closing.promise ??= rotated.close()),
    })
    await expect(reencrypting).rejects.toMatchObject({ code: 'CLOSED' })
    expect(closing.promise).not.toBeNull()
    await closing.promise
    expect((await keyIds()).filter((id) => id === keyB.id)).toHaveLength(1)
    const reopened = await open({ encryption: { keys: [keyA, keyB] } })
    for (let index = 0; index < 3; index++) await expectDoc(reopened, `doc-${index}`, `d${index}`)
    expect(await reopened.reencrypt()).toMatchObject({ rewritten: 11, complete: true })
  })

  it('reencrypts in batches bounded by bytes as well as by count', async () => {
    const store = await open({ encryption: { keys: [keyA] } })
    const big = new Uint8Array(10_000).fill(120)
    for (let seq = 0; seq < 5; seq++) await store.append('big', [{ update: big, meta }])
    const result = await store.reencrypt({ maxBatchBytes: 20_000 })
    // Every value is about 10 kB, so a batch closes after its second value.
    expect(result).toMatchObject({ scanned: 5, batches: 3, complete: true })
  })

  it('keeps every write made while reencrypt runs on the same store', async () => {
    const store = await open({ encryption: { keys: [keyA] } })
    for (let index = 0; index < 5; index++) await writeDoc(store, `doc-${index}`, `d${index}`)
    await store.close()
    const rotated = await open({ encryption: { keys: [keyA, keyB] } })
    const reencrypting = rotated.reencrypt({ maxBatchValues: 1 })
    const writes = Array.from({ length: 5 }, async (_, index) => {
      const doc = `doc-${index}`
      await rotated.append(doc, [{ update: bytes(`d${index} four`), meta }])
      await rotated.compact(doc, bytes(`d${index} snapshot ${CONTENT}`), 3)
    })
    await Promise.all([reencrypting, ...writes])
    for (let index = 0; index < 5; index++) {
      const loaded = await rotated.load(`doc-${index}`)
      expect(textOf(loaded.snapshot)).toBe(`d${index} snapshot ${CONTENT}`)
      expect(loaded.updates.map(textOf)).toEqual([`d${index} four`])
    }
  })

  it('checks the options before touching the disk', async () => {
    const missing = join(path, 'not-created')
    await expect(
      LevelStore.open({ path: missing, encryption: { keys: [{ id: 'k', key: randomBytes(31) }] } }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('must be 32 bytes'),
    })
    await expect(access(missing)).rejects.toThrow()
    const plain = await open()
    await expect(plain.reencrypt()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    const store = await LevelStore.open({ path: missing, encryption: { keys: [keyA] } })
    opened.push(store)
    await expect(store.reencrypt({ maxBatchValues: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('maxBatchValues'),
    })
  })
})
