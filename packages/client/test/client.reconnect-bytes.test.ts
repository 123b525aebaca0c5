/**
 * A reconnect costs what changed, not the document: after a short gap, the bytes a client and
 * the real relay exchange are proportional to the edits each side missed (state vectors honoured
 * both ways), on a document of about 2 MB.
 */
import {
  loadTrace,
  startTestRelay,
  testClient,
  untilSameState,
  type TestRelay,
} from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

describe('a reconnect after a short gap', () => {
  it('exchanges bytes in proportion to the missed edits, both ways, not to the document', async () => {
    const counted = { bytesIn: 0, bytesOut: 0 }
    relay = await startTestRelay({
      metrics: {
        frameIn: (bytes: number) => (counted.bytesIn += bytes),
        frameOut: (bytes: number) => (counted.bytesOut += bytes),
      },
    })
    const paper = loadTrace('automerge-paper').endContent
    const writer = testClient(relay).open('big')
    await writer.whenSynced()
    // About 2 MB of text, in edits of one paper each (within the relay's frame limit).
    for (let copy = 0; copy < 20; copy++) {
      writer.doc.getText('t').insert(writer.doc.getText('t').length, paper)
    }
    await writer.whenSaved()
    const documentBytes = Y.encodeStateAsUpdate(writer.doc).length

    const readerClient = testClient(relay)
    const reader = readerClient.open('big')
    await reader.whenSynced()
    readerClient.disconnect()
    // Ten edits on each side while they are apart.
    for (let edit = 0; edit < 10; edit++) {
      writer.doc.getText('t').insert(edit * 1000, `writer ${edit} `)
      reader.doc.getText('t').insert(edit * 2000, `reader ${edit} `)
    }
    await writer.whenSaved()
    const before = { ...counted }
    readerClient.connect()
    await reader.whenSaved()
    await untilSameState([writer.doc, reader.doc])
    const exchanged = counted.bytesIn - before.bytesIn + (counted.bytesOut - before.bytesOut)
    console.log(
      `reconnect after 10 edits each way on a ${documentBytes}-byte document: ${exchanged} bytes exchanged`,
    )
    expect(reader.doc.getText('t').toString()).toBe(writer.doc.getText('t').toString())
    expect(reader.doc.getText('t').toString()).toContain('writer 9 ')
    expect(writer.doc.getText('t').toString()).toContain('reader 9 ')
    // The reader's state vector and the edits both ways, and the writer's echo: a few KB.
    expect(exchanged).toBeLessThan(documentBytes / 100)
  }, 60_000)
})
