import { defineSchema, field, type RecordWrite } from '@weft/doc'
import { MemoryStore, openAuth, parseRecordRules, resolveRelayOptions } from '@weft/server'
import { describe, expect, it } from 'vitest'
import { recordWriteDenied } from '../src/record-rules.js'

const schema = defineSchema({ version: 1, collections: { tasks: { title: field.string() } } })

const write = (overrides: Partial<RecordWrite>): RecordWrite => ({
  collection: 'tasks',
  id: 't1',
  created: false,
  fields: new Set(),
  deletion: false,
  ownerChange: false,
  newOwners: [],
  authors: new Set(),
  createdBy: 'ana',
  owner: 'ana',
  ...overrides,
})

const ben = { subject: 'ben', roles: [] }
const admin = { subject: 'root', roles: ['admin'] }

describe('record rules', () => {
  it('are checked against the schema, naming the bad entry', () => {
    expect(() => parseRecordRules({ tasks: { update: 'owners' } }, schema, 'rules')).toThrow(
      /rules\.tasks\.update: .*"scope", "owner", "nobody"/,
    )
    expect(() => parseRecordRules({ people: {} }, schema, 'rules')).toThrow(
      'rules.people: the schema has no collection "people"',
    )
    expect(() => parseRecordRules({ tasks: { remove: 'owner' } }, schema, 'rules')).toThrow(
      /rules\.tasks/,
    )
    expect(
      parseRecordRules({ tasks: { update: ['owner', { role: 'admin' }] } }, schema, 'rules'),
    ).toEqual({ tasks: { update: ['owner', { role: 'admin' }] } })
    expect(() =>
      resolveRelayOptions({
        store: new MemoryStore(),
        auth: openAuth(),
        schemas: [{ pattern: 'b/*', schema, rules: { tasks: { create: 7 } } as never }],
      }),
    ).toThrow(/options\.schemas\[0\]\.rules\.tasks\.create/)
  })

  it('allow what they leave out to any writer, but owner changes to nobody', () => {
    const rules = { tasks: {} }
    expect(recordWriteDenied(rules, write({ fields: new Set(['title']) }), ben)).toBeUndefined()
    expect(recordWriteDenied(rules, write({ deletion: true }), ben)).toBeUndefined()
    expect(recordWriteDenied(rules, write({ ownerChange: true }), admin)?.code).toBe('FORBIDDEN')
    expect(recordWriteDenied({}, write({ ownerChange: true }), ben)).toBeUndefined()
  })

  it('judge by the stored owner, or by the creator with ownerField createdBy', () => {
    const rules = { tasks: { update: 'owner' as const } }
    const handedToBen = write({ fields: new Set(['title']), owner: 'ben' })
    expect(recordWriteDenied(rules, handedToBen, ben)).toBeUndefined()
    const byCreator = { tasks: { update: 'owner' as const, ownerField: 'createdBy' as const } }
    expect(recordWriteDenied(byCreator, handedToBen, ben)?.message).toContain(
      'tasks record "t1": writing title is allowed to its owner, and ben is not (its owner is ana)',
    )
    expect(recordWriteDenied(rules, write({ fields: new Set(['title']) }), admin)).toBeDefined()
    expect(
      recordWriteDenied(
        { tasks: { update: { role: 'admin' } } },
        write({ fields: new Set(['title']) }),
        admin,
      ),
    ).toBeUndefined()
  })

  it('make delete follow update unless given, and require the writer as creator', () => {
    const rules = { tasks: { update: 'owner' as const } }
    expect(recordWriteDenied(rules, write({ deletion: true }), ben)?.message).toContain(
      'deleting or restoring it',
    )
    const created = write({ created: true, createdBy: 'ben', owner: null })
    expect(recordWriteDenied({ tasks: { create: 'nobody' } }, created, ben)).toBeDefined()
    expect(recordWriteDenied(rules, created, ben)).toBeUndefined()
    expect(recordWriteDenied(rules, { ...created, createdBy: 'ana' }, ben)?.message).toContain(
      'createdBy must be the writer',
    )
    expect(recordWriteDenied(rules, { ...created, newOwners: ['ana'] }, ben)).toBeDefined()
  })

  it('require values written as the writer, or as a migration step', () => {
    const rules = { tasks: {} }
    const forged = write({ fields: new Set(['title']), authors: new Set(['ana']) })
    expect(recordWriteDenied(rules, forged, ben)?.message).toContain(
      'values must be written as the writer\'s subject "ben" (got "ana")',
    )
    const own = write({ fields: new Set(['title']), authors: new Set(['ben']) })
    expect(recordWriteDenied(rules, own, ben)).toBeUndefined()
    const migration = write({ fields: new Set(['title']), authors: new Set(['weft:migration:2']) })
    expect(recordWriteDenied(rules, migration, ben)).toBeUndefined()
    expect(recordWriteDenied({}, forged, ben)).toBeUndefined()
  })
})
