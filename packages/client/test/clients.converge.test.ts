import {
  expectConverged,
  startTestRelay,
  testClient,
  untilSameState,
  type TestRelay,
} from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

let relay: TestRelay

beforeEach(async () => {
  relay = await startTestRelay()
})
afterEach(async () => {
  await relay.close()
})

describe('two Weft clients on one relay', () => {
  it('converge on text, map and array edits, and every edit is saved', async () => {
    const alice = testClient(relay).open('shared')
    const bob = testClient(relay).open('shared')
    await Promise.all([alice.whenSynced(), bob.whenSynced()])

    alice.doc.getText('text').insert(0, 'hello ')
    bob.doc.getText('text').insert(0, 'world')
    alice.doc.getMap('map').set('owner', 'alice')
    bob.doc.getMap('map').set('count', 2)
    alice.doc.getArray<number>('list').push([1, 2])
    bob.doc.getArray<number>('list').insert(0, [0])
    bob.doc.getText('text').delete(0, 1)

    await Promise.all([alice.whenSaved(), bob.whenSaved()])
    expect(alice.pending).toBe(0)
    expect(bob.pending).toBe(0)
    await untilSameState([alice.doc, bob.doc])
    expectConverged([alice.doc, bob.doc])
    expect(alice.doc.getMap('map').toJSON()).toEqual({ owner: 'alice', count: 2 })
    expect(alice.doc.getText('text').length).toBe('hello world'.length - 1)
  })
})
