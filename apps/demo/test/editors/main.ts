/** A test page: one editor (`?editor=tiptap|quill|monaco`) bound to a WeftProvider on `?doc=`. */
import { createClient, WeftProvider } from '@weft/client'
import * as Y from 'yjs'
import type { MountEditor, PageApi } from './page-api.js'

const editors: Record<string, () => Promise<{ mount: MountEditor }>> = {
  tiptap: () => import('./tiptap.js'),
  quill: () => import('./quill.js'),
  monaco: () => import('./monaco.js'),
}

const params = new URLSearchParams(location.search)
const load = editors[params.get('editor') ?? '']
if (load === undefined) throw new Error('unknown ?editor=')
const user = { name: params.get('name') ?? 'anonymous', color: params.get('color') ?? '#30bced' }
// The tabs of one profile share this client's connection (the default where Web Locks exist).
const token = params.get('token')
const client = createClient({
  url: `ws://${location.host}`,
  clientName: 'weft-editor-page',
  ...(token === null ? {} : { token }),
})
const provider = new WeftProvider(client, params.get('doc') ?? 'editor', new Y.Doc())
const { mount } = await load()
const editor = mount(provider, document.querySelector<HTMLElement>('#editor')!, user)
const api: PageApi = { client, provider, ...editor }
Object.assign(window, { weftEditor: api })
