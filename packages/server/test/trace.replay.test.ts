import { applyTxn, loadTrace, startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import type * as Y from 'yjs'

const relays: TestRelay[] = []

afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.close()
})

const untilText = (text: Y.Text, expected: string, timeoutMs: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const check = (): void => {
      if (text.length !== expected.length || text.toString() !== expected) return
      clearTimeout(timer)
      text.unobserve(check)
      resolve()
    }
    const timer = setTimeout(() => {
      text.unobserve(check)
      reject(
        new Error(`text has ${text.length} of ${expected.length} characters after ${timeoutMs} ms`),
      )
    }, timeoutMs)
    text.observe(check)
    check()
  })

describe('the automerge-paper trace through the relay', () => {
  it('reaches a second client and a fresh client after a restart with exactly the final text', async () => {
    const trace = loadTrace('automerge-paper')
    const first = await startTestRelay()
    relays.push(first)
    const [writerClient, readerClient] = [testClient(first), testClient(first)]
    const writer = writerClient.open('paper')
    const reader = readerClient.open('paper')
    await Promise.all([writer.whenSynced(), reader.whenSynced()])

    const started = performance.now()
    const text = writer.doc.getText('text')
    for (const txn of trace.txns) applyTxn(text, txn.patches)
    expect(text.toString()).toBe(trace.endContent)
    await untilText(reader.doc.getText('text'), trace.endContent, 120_000)
    const readerMs = performance.now() - started
    await writer.whenSaved()
    expect(writer.pending).toBe(0)
    console.log(
      `trace: ${trace.txns.length} updates, reader complete after ${Math.round(readerMs)} ms, ` +
        `writer saved after ${Math.round(performance.now() - started)} ms`,
    )

    await Promise.all([writerClient.close(), readerClient.close()])
    await first.close({ keepData: true })
    const second = await startTestRelay({ dataDir: first.dataDir })
    relays.push(second)
    const fresh = testClient(second).open('paper')
    await fresh.whenSynced()
    expect(fresh.doc.getText('text').toString()).toBe(trace.endContent)
  }, 240_000)
})
