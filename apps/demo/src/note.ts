/** The shared note: CodeMirror bound to the document's `note` text, with live cursors. */
import { EditorView, basicSetup } from 'codemirror'
import { yCollab } from 'y-codemirror.next'
import type { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import type { Identity } from './identity.js'

export const mountNote = (doc: Y.Doc, awareness: Awareness, me: Identity): (() => void) => {
  const text = doc.getText('note')
  awareness.setLocalStateField('user', { name: me.name, color: me.color })
  const parent = document.querySelector<HTMLElement>('#editor')!
  const view = new EditorView({
    doc: text.toString(),
    extensions: [basicSetup, EditorView.lineWrapping, yCollab(text, awareness)],
    parent,
  })
  const presence = document.querySelector<HTMLElement>('#presence')!
  const renderPresence = (): void => {
    const names = [...awareness.getStates().values()]
      .map((state) => (state as { user?: { name?: string } }).user?.name)
      .filter((name): name is string => typeof name === 'string')
    presence.textContent = names.length > 0 ? `Here: ${names.join(', ')}` : ''
  }
  awareness.on('change', renderPresence)
  renderPresence()
  return () => {
    awareness.off('change', renderPresence)
    view.destroy()
  }
}
