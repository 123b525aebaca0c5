/** Monaco (the editor API only, no languages), bound by y-monaco. */
import * as monaco from 'monaco-editor/esm/vs/editor/editor.api.js'
import EditorWorker from 'monaco-editor/esm/vs/editor/editor.worker.js?worker'
import { MonacoBinding } from 'y-monaco'
import type { MountEditor } from './page-api.js'

Object.assign(self, { MonacoEnvironment: { getWorker: () => new EditorWorker() } })

export const mount: MountEditor = (provider, parent, user) => {
  provider.awareness.setLocalStateField('user', user)
  const editor = monaco.editor.create(parent, { value: '', automaticLayout: false })
  const model = editor.getModel()!
  // The binding sets the model's value from the text: one editor serves every document.
  provider.bind(
    (doc, awareness) =>
      new MonacoBinding(doc.getText('monaco'), model, new Set([editor]), awareness),
  )
  return {
    visible: () => model.getValue(),
    shared: () => provider.doc.getText('monaco').toString(),
    appendShared: (text) => {
      const shared = provider.doc.getText('monaco')
      shared.insert(shared.length, text)
    },
  }
}
