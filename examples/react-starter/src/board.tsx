import type { Model } from '@weft/doc'
import { useConflicts, useDoc, useModel, usePresence, useRecord, useRecords } from '@weft/react'
import { useEffect, useState, type FormEvent } from 'react'
import type { User } from './identity.js'
import { boardSchema, STATUSES } from './schema.js'
import { SyncBadge } from './sync-badge.js'

type BoardModel = Model<typeof boardSchema.collections>

export const Board = ({ name, user }: { name: string; user: User }) => {
  // Suspends (see <Suspense> in app.tsx) until the device's copy is loaded: offline too.
  const handle = useDoc(name, { suspend: 'loaded' })
  const model = useModel(handle, boardSchema, { author: user.name })
  const tasks = useRecords(model, 'tasks')
  const others = usePresence(handle)
  const [title, setTitle] = useState('')

  useEffect(() => handle.awareness.setLocalStateField('user', user), [handle, user])
  useEffect(() => {
    // Once the relay's state is here, bring the document to the schema's version.
    let live = true
    handle.whenSynced().then(
      () => live && model.status.mode === 'writable' && model.migrate(),
      () => {},
    )
    return () => {
      live = false
    }
  }, [handle, model])

  const add = (event: FormEvent) => {
    event.preventDefault()
    if (title.trim() === '') return
    model.collection('tasks').create({ title: title.trim(), status: 'todo' })
    setTitle('')
  }

  return (
    <section className="board">
      <h2>
        Tasks <SyncBadge handle={handle} label="board" />
      </h2>
      <p className="others">
        {others.length === 0
          ? 'Nobody else here: open this page in another tab.'
          : `Also here: ${others.map(({ state }) => (state['user'] as User | undefined)?.name ?? 'someone').join(', ')}`}
      </p>
      <form onSubmit={add}>
        <input
          id="task-title"
          value={title}
          placeholder="A new task"
          onChange={(event) => setTitle(event.currentTarget.value)}
        />
        <button type="submit">Add</button>
      </form>
      <ul>
        {tasks.map((task) => (
          <TaskItem key={task.id} model={model} id={task.id} />
        ))}
      </ul>
    </section>
  )
}

/** One task: re-renders only when this task changes (useRecord), not when others do. */
const TaskItem = ({ model, id }: { model: BoardModel; id: string }) => {
  const task = useRecord(model, 'tasks', id)
  const conflicts = useConflicts(model, { collection: 'tasks', id })
  if (task === null) return null
  const next = STATUSES[(STATUSES.indexOf(task.status) + 1) % STATUSES.length] ?? 'todo'
  return (
    <li className={`task ${task.status}`}>
      <span className="title">{task.title}</span>
      <button onClick={() => model.collection('tasks').update(id, { status: next })}>
        {task.status}
      </button>
      <button onClick={() => model.collection('tasks').delete(id)} aria-label="delete">
        ×
      </button>
      {conflicts.map((conflict) => (
        <span key={conflict.field} className="conflict">
          edited at once:{' '}
          {conflict.values.map(({ value, author }) => (
            <button key={author + String(value)} onClick={() => model.resolve(conflict, value)}>
              keep {String(value)} ({author})
            </button>
          ))}
        </span>
      ))}
    </li>
  )
}
