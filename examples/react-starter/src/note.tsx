import { WeftProvider } from '@weft/client'
import { useEditorDoc, useWeftClient } from '@weft/react'
import Collaboration from '@tiptap/extension-collaboration'
import CollaborationCaret from '@tiptap/extension-collaboration-caret'
import { EditorContent, useEditor } from '@tiptap/react'
import StarterKit from '@tiptap/starter-kit'
import { useEffect, useState } from 'react'
import * as Y from 'yjs'
import type { User } from './identity.js'
import { SyncBadge } from './sync-badge.js'

/** A WeftProvider (y-websocket's shape, for editor bindings) on document `name`, for this component's life. */
const useWeftProvider = (name: string): WeftProvider | null => {
  const client = useWeftClient()
  const [provider, setProvider] = useState<WeftProvider | null>(null)
  useEffect(() => {
    const created = new WeftProvider(client, name, new Y.Doc())
    setProvider(created)
    return () => created.destroy()
  }, [client, name])
  return provider
}

export const Note = ({ name, user }: { name: string; user: User }) => {
  const provider = useWeftProvider(name)
  return (
    <section className="note">
      <h2>Note {provider && <SyncBadge handle={provider.handle} label="note" />}</h2>
      {provider ? <NoteEditor provider={provider} user={user} /> : <p>Opening the note…</p>}
    </section>
  )
}

const NoteEditor = ({ provider, user }: { provider: WeftProvider; user: User }) => {
  // After the relay refuses an edit the document is rebuilt: the editor follows the new one.
  const { doc } = useEditorDoc(provider)
  const editor = useEditor(
    {
      extensions: [
        StarterKit.configure({ undoRedo: false }), // Collaboration brings its own undo
        Collaboration.configure({ document: doc, field: 'note' }),
        CollaborationCaret.configure({ provider, user }),
      ],
    },
    [doc, provider],
  )
  return <EditorContent editor={editor} className="editor" />
}
