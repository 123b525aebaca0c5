/** Quill 2 with quill-cursors, bound by y-quill. */
import Quill from 'quill'
import 'quill/dist/quill.snow.css'
import QuillCursors from 'quill-cursors'
import { QuillBinding } from 'y-quill'
import type { MountEditor } from './page-api.js'

Quill.register('modules/cursors', QuillCursors)

export const mount: MountEditor = (provider, parent, user) => {
  provider.awareness.setLocalStateField('user', user)
  const quill = new Quill(parent, {
    theme: 'snow',
    modules: { cursors: true, toolbar: false, history: { userOnly: true } },
  })
  // The binding sets the editor's content from the text: one Quill serves every document.
  provider.bind((doc, awareness) => new QuillBinding(doc.getText('quill'), quill, awareness))
  return {
    visible: () => quill.getText(),
    shared: () => provider.doc.getText('quill').toString(),
    appendShared: (text) => {
      const shared = provider.doc.getText('quill')
      shared.insert(shared.length, text)
    },
  }
}
