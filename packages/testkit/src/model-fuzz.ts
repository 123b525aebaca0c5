/**
 * Model fuzzing against a running relay with a schema and record rules: updates that look like
 * the model's writes (register keys, record maps, metadata) but break the schema or the rules,
 * from a user who owns none of the records, sent over a Weft socket or `POST /v1/docs/<name>/update`
 * in a seeded order, between honest edits of the owner. Every one must be refused with
 * `FORBIDDEN` or `SCHEMA_VIOLATION`, and the owner's records must come out as she left them.
 */
import { createClient, type DocHandle, type WeftClient } from '@weft/client'
import {
  defineSchema,
  encodeStamp,
  field,
  openModel,
  schemaToJson,
  type SchemaJson,
} from '@weft/doc'
import { isDeepStrictEqual } from 'node:util'
import type { RecordRules } from '@weft/server'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { mulberry32 } from './fault-lane.js'

/** The schema the fuzzed document has: a task board. */
export const MODEL_FUZZ_SCHEMA = defineSchema({
  version: 1,
  collections: {
    tasks: {
      title: field.string(),
      done: field.boolean(),
      status: field.enum(['todo', 'done']),
      notes: field.text(),
      tags: field.list(field.string()),
    },
  },
})

/** Its record rules: only a task's owner updates it, only an admin hands it over. */
export const MODEL_FUZZ_RULES: RecordRules = {
  tasks: { update: 'owner', ownerChange: { role: 'admin' } },
}

/** A relay's `--schemas-file` giving documents matching `pattern` the schema and the rules. */
export const modelFuzzSchemasFile = (
  pattern: string,
): { schemas: Array<{ pattern: string; schema: SchemaJson; rules: RecordRules }> } => ({
  schemas: [{ pattern, schema: schemaToJson(MODEL_FUZZ_SCHEMA), rules: MODEL_FUZZ_RULES }],
})

/** Options of {@link runModelFuzz}. */
export interface ModelFuzzOptions {
  /** `ws://…` of the relay. */
  readonly url: string
  /** `http://…` of its HTTP API (`/v1`). */
  readonly httpUrl: string
  readonly seed: number
  readonly executions: number
  /** A document with {@link MODEL_FUZZ_SCHEMA} and {@link MODEL_FUZZ_RULES} on the relay. */
  readonly doc: string
  /** A token with write access to `doc` for subject `sub`. */
  readonly token: (sub: string) => Promise<string>
}

/** What the run saw. */
export interface ModelFuzzResult {
  readonly seed: number
  readonly executions: number
  /** Hostile updates refused, by code. */
  readonly refused: Readonly<Record<string, number>>
  /** Hostile updates the relay took, or refused with another code (each one a failure). */
  readonly accepted: readonly string[]
  /** Refused edits the Weft client kept aside (its `rejected` journal). */
  readonly keptAside: number
  /** Honest edits of the owner made between them (all saved). */
  readonly honestEdits: number
  /** What is wrong with the owner's records at the end (empty when they are as she left them). */
  readonly damage: readonly string[]
}

type Random = () => number
const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T

/** Values that fit no field of the given type. */
const WRONG: Record<string, readonly unknown[]> = {
  title: [7, true, null, ['a'], { a: 1 }, new Uint8Array([1])],
  done: ['yes', 0, null, [], { v: true }],
  status: ['doing', 'TODO', 3, null, ''],
}

const stamp = (): string => encodeStamp(Date.now(), 0)
const record = (doc: Y.Doc, id: string): Y.Map<unknown> =>
  doc.getMap<Y.Map<unknown>>('tasks').get(id) as Y.Map<unknown>
const model = (doc: Y.Doc, author: string) => openModel(doc, MODEL_FUZZ_SCHEMA, { author })

/**
 * Edits of `doc` (a replica of the relay's copy) that break the schema or the rules for `ben`,
 * who owns none of the records; each says what it is.
 */
const hostileEdits: ReadonlyArray<(doc: Y.Doc, id: string, random: Random) => string> = [
  (doc, id, random) => {
    const name = pick(random, Object.keys(WRONG))
    record(doc, id).set(`=${name}|${stamp()}|ben`, { v: pick(random, WRONG[name]!) })
    return `wrong-typed ${name}`
  },
  (doc, id) => (record(doc, id).set(`=colour|${stamp()}|ben`, { v: 'red' }), 'unknown field'),
  (doc, id) => (record(doc, id).set(`=title|not-a-stamp|ben`, { v: 'x' }), 'malformed key'),
  (doc, id) => (record(doc, id).set('title', 'x'), 'bare key'),
  (doc, id) => (record(doc, id).set(`=title|${stamp()}|ben`, 'x'), 'value without { v }'),
  (doc, id) => (record(doc, id).set('@createdBy', 'ben'), 'rewritten createdBy'),
  (doc, id) => (record(doc, id).set('@createdAt', 0), 'rewritten createdAt'),
  (doc, id) => (record(doc, id).delete('@createdBy'), 'removed createdBy'),
  (doc, id) => (record(doc, id).set('~notes', new Y.Text('replaced')), 'replaced text'),
  (doc, id) => (record(doc, id).set('~tags', new Y.Text('x')), 'text as a list'),
  (doc, id) => ((record(doc, id).get('~tags') as Y.Array<unknown>).push([1]), 'wrong list item'),
  (doc, id) => (
    (record(doc, id).get('~tags') as Y.Array<unknown>).push([Uint8Array.of(1)]),
    'bytes in a list'
  ),
  (doc, id) => (
    (record(doc, id).get('~tags') as Y.Array<unknown>).push([new Y.Map()]),
    'nested list item'
  ),
  (doc, id) => ((record(doc, id).get('~notes') as Y.Text).insert(0, 'mine'), 'foreign typing'),
  (doc, id) => {
    const notes = record(doc, id).get('~notes') as Y.Text
    notes.delete(0, Math.min(1, notes.length))
    notes.insert(0, '!')
    return 'foreign erase'
  },
  (doc, id) => (doc.getMap('tasks').set(id, new Y.Map()), 'replaced record'),
  (doc, id) => (doc.getMap('tasks').delete(id), 'removed record'),
  (doc) => (doc.getMap('tasks').set('', new Y.Map()), 'empty record id'),
  (doc) => (doc.getMap('tasks').set('plain', 'value'), 'record that is no map'),
  (doc, _id, random) => (
    doc.getMap(pick(random, ['people', 'weft:secrets', 'Tasks'])).set('a', 1),
    'unknown collection'
  ),
  (doc) => (doc.getText('tasks').insert(0, 'x'), 'collection as text'),
  (doc) => (doc.getMap('weft:schema').set(`=version|${stamp()}|x`, { v: 'two' }), 'bad version'),
  (doc, id) => (
    model(doc, 'ben').collection('tasks').update(id, { title: 'mine now' }),
    'foreign edit'
  ),
  (doc, id) => (model(doc, 'ben').collection('tasks').delete(id), 'foreign delete'),
  (doc, id) => (model(doc, 'ben').collection('tasks').setOwner(id, 'ben'), 'self-given ownership'),
  (doc) => (
    model(doc, 'ana').collection('tasks').create({ title: 'forged', done: false, status: 'todo' }),
    'forged creator'
  ),
]

/**
 * `fetch`, waiting as told and trying again while the relay answers 429 (its `/v1` rate limit,
 * which a long run reaches): a rate-limited request says nothing of the write check.
 */
const politeFetch = async (url: string, init: RequestInit): Promise<Response> => {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(url, init)
    if (response.status !== 429 || attempt >= 50) return response
    await response.arrayBuffer()
    const seconds = Number(response.headers.get('retry-after') ?? '')
    await new Promise((resolve) =>
      setTimeout(resolve, Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 200),
    )
  }
}

/** Runs the model fuzz; see the module comment. The caller judges the result. */
export const runModelFuzz = async (options: ModelFuzzOptions): Promise<ModelFuzzResult> => {
  const { seed, executions, doc, httpUrl } = options
  const random = mulberry32(seed)
  const clients: WeftClient[] = []
  const open = async (sub: string): Promise<DocHandle> => {
    const client = createClient({ url: options.url, WebSocket, token: () => options.token(sub) })
    clients.push(client)
    const handle = client.open(doc)
    await handle.whenSynced()
    return handle
  }
  const path = `${httpUrl}/v1/docs/${encodeURIComponent(doc)}`
  const refused: Record<string, number> = {}
  const accepted: string[] = []
  let honestEdits = 0
  try {
    const ana = await open('ana')
    const anaTasks = model(ana.doc, 'ana').collection('tasks')
    const ids = [0, 1, 2].map(
      (n) => anaTasks.create({ title: `task ${n}`, done: false, status: 'todo', tags: ['a'] }).id,
    )
    await ana.whenSaved()
    const ben = await open('ben')
    const benToken = await options.token('ben')
    const anaToken = await options.token('ana')
    for (let execution = 0; execution < executions; execution++) {
      const replica = new Y.Doc()
      const current = await politeFetch(`${path}/update`, {
        headers: { authorization: `Bearer ${anaToken}` },
      })
      if (!current.ok) throw new Error(`GET ${path}/update answered ${current.status}`)
      Y.applyUpdate(replica, new Uint8Array(await current.arrayBuffer()))
      const before = Y.encodeStateVector(replica)
      const id = pick(random, ids)
      const what = pick(random, hostileEdits)(replica, id, random)
      const update = Y.encodeStateAsUpdate(replica, before)
      const where = `seed=${seed} execution ${execution}: ${what}`
      let code: string | undefined
      if (random() < 0.5) {
        const response = await politeFetch(`${path}/update`, {
          method: 'POST',
          headers: { authorization: `Bearer ${benToken}` },
          body: update as BodyInit,
        })
        code = ((await response.json()) as { code?: string }).code
        if (response.ok) code = undefined
      } else {
        const reset = new Promise((resolve) => ben.once('reset', resolve))
        Y.applyUpdate(ben.doc, update)
        code = await ben.whenSaved().then(
          () => undefined,
          (error: { code: string }) => error.code,
        )
        if (code !== undefined) await reset
      }
      if (code === 'FORBIDDEN' || code === 'SCHEMA_VIOLATION') {
        refused[code] = (refused[code] ?? 0) + 1
      } else accepted.push(`${where} (${code ?? 'accepted'})`)
      if (random() < 0.3) {
        const task = pick(random, ids)
        if (random() < 0.5) anaTasks.update(task, { done: !anaTasks.get(task)?.done })
        else anaTasks.get(task)?.notes.insert(0, 'a')
        honestEdits += 1
        await ana.whenSaved()
      }
    }
    await ben.whenSynced()
    const damage = await damageOf(options, ana)
    return {
      seed,
      executions,
      refused,
      accepted,
      keptAside: ben.rejected.length,
      honestEdits,
      damage,
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()))
  }
}

/** How the relay's copy differs from what the owner left: empty when it does not. */
const damageOf = async (options: ModelFuzzOptions, ana: DocHandle): Promise<string[]> => {
  const damage: string[] = []
  const token = await options.token('ana')
  const read = async (view: string) => {
    const response = await politeFetch(
      `${options.httpUrl}/v1/docs/${encodeURIComponent(options.doc)}${view}`,
      { headers: { authorization: `Bearer ${token}` } },
    )
    return (await response.json()) as Record<string, unknown>
  }
  const raw = (await read('?view=raw')) as { content?: Record<string, unknown> }
  const roots = Object.keys(raw.content ?? {}).sort()
  if (roots.join() !== 'tasks') damage.push(`root types ${JSON.stringify(roots)}`)
  const mine = model(ana.doc, 'ana').toJSON()
  const titles = mine.collections.tasks.map((task) => task['title']).sort()
  if (titles.join() !== 'task 0,task 1,task 2') damage.push(`titles ${JSON.stringify(titles)}`)
  if (!mine.collections.tasks.every((task) => task['owner'] === 'ana'))
    damage.push('a task changed owner')
  if (mine.conflicts.length > 0) damage.push(`conflicts ${JSON.stringify(mine.conflicts)}`)
  const relayModel = (await read('')) as {
    model?: { collections?: Record<string, unknown> }
  }
  const theirs = relayModel.model?.collections?.['tasks']
  if (!isDeepStrictEqual(theirs, JSON.parse(JSON.stringify(mine.collections.tasks))))
    damage.push('the relay and the owner hold different tasks')
  for (const task of mine.collections.tasks) {
    if (String(task['notes']).replace(/a/g, '') !== '')
      damage.push(`notes of ${task.id} were written by another`)
  }
  return damage
}
