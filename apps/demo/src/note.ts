/** The shared note: CodeMirror bound to the document's `note` text, with live cursors. */
import type { DocHandle } from '@weft/client'
import { EditorView, basicSetup } from 'codemirror'
import { yCollab } from 'y-codemirror.next'
import type { Identity } from './identity.js'

export const mountNote = (handle: DocHandle, me: Identity): (() => void) => {
  const text = handle.doc.getText('note')
  handle.awareness.setLocalStateField('user', { name: me.name, color: me.color })
  const parent = document.querySelector<HTMLElement>('#editor')!
  const view = new EditorView({
    doc: text.toString(),
    extensions: [basicSetup, EditorView.lineWrapping, yCollab(text, handle.awareness)],
    parent,
  })
  const presence = document.querySelector<HTMLElement>('#presence')!
  const renderPresence = (): void => {
    const names = [...handle.awareness.getStates().values()]
      .map((state) => (state as { user?: { name?: string } }).user?.name)
      .filter((name): name is string => typeof name === 'string')
    presence.textContent = names.length > 0 ? `Here: ${names.join(', ')}` : ''
  }
  handle.awareness.on('change', renderPresence)
  renderPresence()
  return () => {
    handle.awareness.off('change', renderPresence)
    view.destroy()
  }
}
