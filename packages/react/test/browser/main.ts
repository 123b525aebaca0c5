/**
 * A page of @weft/react's Chromium test: a task board on the hooks, synced through the relay at
 * `?relay=`. It shows the sync state, unsaved edits and the other clients present.
 */
import { createClient } from '@weft/client'
import {
  createElement as h,
  StrictMode,
  Suspense,
  useEffect,
  useState,
  type FormEvent,
} from 'react'
import { createRoot } from 'react-dom/client'
import {
  useDoc,
  useModel,
  usePresence,
  useRecords,
  useSyncStatus,
  useUnsavedChangesGuard,
  WeftClientProvider,
} from '../../src/index.js'
import { boardSchema } from '../board-schema.js'

const params = new URLSearchParams(location.search)
const client = createClient({ url: params.get('relay') ?? '', tabs: false })
const me = params.get('name') ?? 'someone'

const Board = (): ReturnType<typeof h> => {
  const handle = useDoc(params.get('doc') ?? 'board', { suspend: 'loaded' })
  const model = useModel(handle, boardSchema, { author: me })
  const tasks = useRecords(model, 'tasks')
  const { state, pending } = useSyncStatus(handle)
  const peers = usePresence(handle)
  useUnsavedChangesGuard(handle)
  const [title, setTitle] = useState('')
  useEffect(() => handle.awareness.setLocalStateField('name', me), [handle])
  const add = (event: FormEvent): void => {
    event.preventDefault()
    model.collection('tasks').create({ title, status: 'todo' })
    setTitle('')
  }
  return h(
    'main',
    null,
    h('p', { id: 'sync', 'data-state': state, 'data-pending': pending }, `${state}, ${pending}`),
    h('p', { id: 'peers' }, peers.map(({ state }) => String(state['name'])).join(',')),
    h(
      'form',
      { onSubmit: add },
      h('input', { id: 'title', value: title, onChange: (e) => setTitle(e.currentTarget.value) }),
    ),
    h(
      'ul',
      null,
      tasks.map((task) => h('li', { key: task.id, className: 'task' }, task.title)),
    ),
  )
}

createRoot(document.getElementById('root') as HTMLElement).render(
  h(
    StrictMode,
    null,
    h(
      WeftClientProvider,
      { client },
      h(Suspense, { fallback: h('p', { id: 'loading' }, 'loading') }, h(Board)),
    ),
  ),
)
