/** Tiptap 2 (y-prosemirror underneath) with its Collaboration and CollaborationCursor extensions. */
import { Editor } from '@tiptap/core'
import Collaboration from '@tiptap/extension-collaboration'
import CollaborationCursor from '@tiptap/extension-collaboration-cursor'
import StarterKit from '@tiptap/starter-kit'
import type * as Y from 'yjs'
import type { MountEditor } from './page-api.js'

export const mount: MountEditor = (provider, parent, user) => {
  let editor: Editor | undefined
  provider.bind((doc) => {
    editor = new Editor({
      element: parent,
      extensions: [
        // Yjs keeps the undo history; StarterKit's own would undo other users' edits.
        StarterKit.configure({ history: false }),
        Collaboration.configure({ document: doc, field: 'prosemirror' }),
        CollaborationCursor.configure({ provider, user }),
      ],
    })
    return editor
  })
  return {
    visible: () => editor?.getText() ?? '',
    shared: () => provider.doc.getXmlFragment('prosemirror').toString(),
    appendShared: (text) => {
      // The last paragraph's text node.
      const fragment = provider.doc.getXmlFragment('prosemirror')
      const paragraph = fragment.get(fragment.length - 1) as Y.XmlElement
      const node = paragraph.get(paragraph.length - 1) as Y.XmlText
      node.insert(node.length, text)
    },
  }
}
