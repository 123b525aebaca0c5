import { startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'

let relay: TestRelay | undefined

afterEach(async () => {
  await relay?.close()
  relay = undefined
})

const until = async (check: () => boolean, what: string, timeoutMs = 2000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Clients a (Ana, with a name in her presence) and b on one document, once b sees Ana. */
const anaAndB = async () => {
  relay = await startTestRelay()
  const [a, b] = [testClient(relay), testClient(relay)]
  const [docA, docB] = [a.open('room'), b.open('room')]
  docA.awareness.setLocalStateField('user', { name: 'Ana' })
  await Promise.all([docA.whenSynced(), docB.whenSynced()])
  const seesAna = (): boolean =>
    [...docB.awareness.getStates().values()].some(
      (state) => (state as { user?: { name?: string } }).user?.name === 'Ana',
    )
  await until(seesAna, 'b sees Ana')
  return { a, b, docA, docB, seesAna }
}

describe('presence', () => {
  it('comes back at once when a client reconnects, not only at the next awareness renewal', async () => {
    const { a, docA, seesAna } = await anaAndB()
    a.disconnect()
    await until(() => !seesAna(), 'Ana is withdrawn when her connection goes')
    a.connect()
    await docA.whenSynced()
    // Well within the 15 s after which y-protocols would renew the state anyway.
    await until(seesAna, 'b sees Ana again after she reconnects')
    expect(seesAna()).toBe(true)
  })

  it('of the others comes back at once to a client that reconnects, though they did not change', async () => {
    const { b, docB, seesAna } = await anaAndB()
    b.disconnect()
    await until(() => !seesAna(), 'b forgets the others when its connection goes')
    b.connect()
    await docB.whenSynced()
    // The relay sends Ana's state under the clock b saw before: b must take it all the same.
    await until(seesAna, 'b sees Ana again after it reconnects')
    expect(seesAna()).toBe(true)
  })
})
