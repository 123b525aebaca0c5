/** The demo: a shared note and a task board on one Weft document, with an honest sync indicator. */
import { createClient, WeftProvider } from '@weft/client'
import { LevelLocalStore } from '@weft/client/level'
import { openModel } from '@weft/doc'
import * as Y from 'yjs'
import { mountBoard } from './board.js'
import { mountNote } from './note.js'
import { describeSync } from './sync-text.js'
import { identity } from './identity.js'
import { boardSchema } from './schema.js'

const params = new URLSearchParams(location.search)
const docName = params.get('doc') || 'welcome'
const me = identity()

const picker = document.querySelector<HTMLFormElement>('#doc-picker')!
const nameInput = document.querySelector<HTMLInputElement>('#doc-name')!
nameInput.value = docName
picker.addEventListener('submit', (event) => {
  event.preventDefault()
  const next = nameInput.value.trim()
  if (next) location.search = `?doc=${encodeURIComponent(next)}`
})

// The offline switch holds across reloads of this tab, to show that edits survive them.
const startOffline = sessionStorage.getItem('weft-demo-offline') === '1'
const store = await LevelLocalStore.open({ location: 'weft-demo' })
const client = createClient({
  url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`,
  store,
  clientName: 'weft-demo',
  autoConnect: !startOffline,
})
// The editor binding goes through WeftProvider (y-websocket's shape); its handle has the status.
const provider = new WeftProvider(client, docName, new Y.Doc())
const handle = provider.handle

// The sync indicator: the handle's real status and its count of edits the relay has not saved.
const sync = document.querySelector<HTMLElement>('#sync')!
const syncText = document.querySelector<HTMLElement>('#sync-text')!
const renderSync = (): void => {
  const shown = describeSync(handle.status, handle.pending, online.checked)
  sync.dataset['state'] = shown.state
  syncText.textContent = shown.text
}
const online = document.querySelector<HTMLInputElement>('#online')!
online.checked = !startOffline
online.addEventListener('change', () => {
  sessionStorage.setItem('weft-demo-offline', online.checked ? '0' : '1')
  if (online.checked) client.connect()
  else client.disconnect()
  renderSync()
})
for (const event of ['status', 'pending', 'saved', 'synced'] as const) handle.on(event, renderSync)
renderSync()

await handle.whenLoaded()
// The editor and board follow the document: when the relay refuses an edit, the provider rebuilds
// the document from the relay's state and calls this again with the new one (the old is unbound).
provider.bind((doc, awareness) => {
  const model = openModel(doc, boardSchema, { author: me.name })
  const unmountNote = mountNote(doc, awareness, me)
  const unmountBoard = mountBoard(model, handle)
  const migrate = (): void => {
    if (model.status.mode === 'writable' && model.status.pendingMigrations > 0) model.migrate()
  }
  handle.whenSynced().then(migrate, () => {})
  return () => {
    unmountNote()
    unmountBoard()
  }
})
Object.assign(window, { weftDemo: { client, handle } })
