import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { openModel } from '../src/model.js'
import { schemaFromJson, schemaToJson, type SchemaJson } from '../src/schema-json.js'
import { defineSchema, field } from '../src/schema.js'

const tasksJson = {
  version: 3,
  collections: {
    people: { name: 'string' },
    tasks: {
      title: 'string',
      done: 'boolean',
      estimate: { type: 'number', nullable: true },
      status: { type: 'enum', values: ['todo', 'doing', 'done'] },
      assignee: { type: 'ref', collection: 'people', nullable: true },
      reviewer: { type: 'ref', collection: 'people' },
      label: { type: 'string', nullable: true },
      notes: 'text',
      tags: { type: 'list', item: 'string' },
      scores: { type: 'list', item: { type: 'number', nullable: true } },
      stages: { type: 'list', item: { type: 'enum', values: ['a', 'b'] } },
    },
  },
} satisfies SchemaJson

/** The INVALID_ARGUMENT message `schemaFromJson(json)` throws. */
const problemOf = (json: unknown, where?: string): string => {
  try {
    schemaFromJson(json, where)
  } catch (error) {
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' })
    return (error as Error).message
  }
  throw new Error('no error thrown')
}

describe('schemas as JSON', () => {
  it('round-trips a schema with every kind of field', () => {
    const schema = schemaFromJson(tasksJson)
    expect(schemaToJson(schema)).toEqual(tasksJson)
    expect(schema.migrations).toEqual([])
    const tasks = schema.collections['tasks']!
    expect(tasks['status']).toMatchObject({ kind: 'scalar', type: 'enum', isNullable: false })
    expect(tasks['status']?.kind === 'scalar' && tasks['status'].check('blocked')).toMatch(
      /must be one of/,
    )
    expect(tasks['assignee']?.kind === 'scalar' && tasks['assignee'].check(null)).toBe(undefined)
    expect(tasks['reviewer']?.kind === 'scalar' && tasks['reviewer'].check(null)).toMatch(/null/)
    expect(tasks['scores']).toMatchObject({
      kind: 'list',
      item: { type: 'number', isNullable: true },
    })

    // A schema defined in code gives the same JSON; its migrations (code) are left out.
    const inCode = defineSchema({
      version: 3,
      collections: {
        people: { name: field.string() },
        tasks: {
          title: field.string(),
          done: field.boolean(),
          estimate: field.number().nullable(),
          status: field.enum(['todo', 'doing', 'done']),
          assignee: field.ref('people').nullable(),
          reviewer: field.ref('people'),
          label: field.string().nullable(),
          notes: field.text(),
          tags: field.list(field.string()),
          scores: field.list(field.number().nullable()),
          stages: field.list(field.enum(['a', 'b'])),
        },
      },
      migrations: [{ version: 2, up: () => {} }],
    })
    expect(schemaToJson(inCode)).toEqual(tasksJson)
    expect(schemaToJson(schemaFromJson(JSON.parse(JSON.stringify(schemaToJson(inCode)))))).toEqual(
      tasksJson,
    )
  })

  it('gives a model that reads and validates like the schema in code', () => {
    const model = openModel(new Y.Doc(), schemaFromJson(tasksJson), { author: 'relay' })
    const tasks = model.collection('tasks')
    const task = tasks.create({ title: 't', done: false, status: 'todo', reviewer: 'p1' } as never)
    expect(tasks.get(task.id)).toMatchObject({ status: 'todo', estimate: null, assignee: null })
    expect(() => tasks.update(task.id, { status: 'blocked' } as never)).toThrow(/must be one of/)
  })

  it('accepts the object form of a type name and an explicit nullable: false', () => {
    const schema = schemaFromJson({
      version: 1,
      collections: {
        notes: { body: { type: 'text' }, title: { type: 'string', nullable: false } },
      },
    })
    expect(schemaToJson(schema)).toEqual({
      version: 1,
      collections: { notes: { body: 'text', title: 'string' } },
    })
  })

  it('names the path of each problem, prefixed by where', () => {
    const withField = (spec: unknown): unknown => ({
      version: 1,
      collections: { tasks: { status: spec } },
    })
    const cases: Array<[unknown, string]> = [
      [null, 'the schema must be an object'],
      [[], 'the schema must be an object'],
      [{ version: 1 }, 'collections must be an object of collections'],
      [{ version: 1, collections: [] }, 'collections must be an object of collections'],
      [{ version: 1, collections: {}, migrations: [] }, 'migrations is not allowed'],
      [{ version: 0, collections: {} }, 'the schema version must be a positive integer'],
      [{ version: '1', collections: {} }, 'the schema version must be a positive integer'],
      [
        { version: 1, collections: { tasks: 'title' } },
        'collections.tasks must be an object of fields',
      ],
      [
        { version: 1, collections: { 'weft:x': {} } },
        'collection name "weft:x" is empty or reserved',
      ],
      [
        { version: 1, collections: { tasks: { id: 'string' } } },
        'field name "tasks.id" is reserved',
      ],
      [
        withField('date'),
        'collections.tasks.status.type must be one of string, number, boolean, enum, ref, text, list (got "date")',
      ],
      [withField(3), 'collections.tasks.status must be a type name or an object with a type'],
      [withField({}), 'collections.tasks.status.type must be one of'],
      [withField('enum'), 'collections.tasks.status.values must be a non-empty list of strings'],
      [
        withField({ type: 'enum', values: [] }),
        'collections.tasks.status.values must be a non-empty list of strings',
      ],
      [
        withField({ type: 'enum', values: ['a', 1] }),
        'collections.tasks.status.values must be a non-empty list of strings',
      ],
      [
        withField({ type: 'ref' }),
        'collections.tasks.status.collection must be the name of a collection',
      ],
      [
        withField({ type: 'string', nullable: 'yes' }),
        'collections.tasks.status.nullable must be true or false',
      ],
      [
        withField({ type: 'string', values: ['a'] }),
        'collections.tasks.status.values is not allowed (a string field takes nullable)',
      ],
      [
        withField({ type: 'text', nullable: true }),
        'collections.tasks.status.nullable is not allowed (a text field takes no options)',
      ],
      [
        withField('list'),
        'collections.tasks.status.item must be a type name or an object with a type',
      ],
      [
        withField({ type: 'list', item: 'text' }),
        'collections.tasks.status.item must be a scalar field',
      ],
      [
        withField({ type: 'list', item: { type: 'list', item: 'string' } }),
        'collections.tasks.status.item must be a scalar field',
      ],
      [
        withField({ type: 'list', item: 'string', nullable: true }),
        'collections.tasks.status.nullable is not allowed (a list field takes item)',
      ],
    ]
    for (const [json, message] of cases) expect(problemOf(json)).toContain(message)
    expect(problemOf(withField('enum'), 'schemas/board.json')).toBe(
      'INVALID_ARGUMENT: schemas/board.json: collections.tasks.status.values must be a non-empty list of strings',
    )
    expect(problemOf({ version: -1, collections: {} }, 'board.json')).toBe(
      'INVALID_ARGUMENT: board.json: the schema version must be a positive integer',
    )
  })
})
