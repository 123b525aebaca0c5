/** The task board: records of the document model, and its conflict journal with a way out. */
import type { DocHandle } from '@weft/client'
import type { Model } from '@weft/doc'
import type { boardSchema, TaskStatus } from './schema.js'

type BoardModel = Model<typeof boardSchema.collections>

const STATUSES: readonly TaskStatus[] = ['todo', 'doing', 'done']

const element = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  children: Array<Node | string> = [],
): HTMLElementTagNameMap[K] => {
  const node = Object.assign(document.createElement(tag), props)
  node.append(...children)
  return node
}

export const mountBoard = (model: BoardModel, handle: DocHandle): (() => void) => {
  const tasks = model.collection('tasks')
  const form = document.querySelector<HTMLFormElement>('#new-task')!
  const input = document.querySelector<HTMLInputElement>('#task-title')!
  const conflictsBox = document.querySelector<HTMLElement>('#conflicts')!

  const render = (): void => {
    for (const status of STATUSES) {
      const list = document.querySelector(`.column[data-status="${status}"] ul`)!
      list.replaceChildren(
        ...tasks
          .list()
          .filter((task) => task.status === status)
          .map((task) => {
            const moves = STATUSES.filter((other) => other !== status).map((other) =>
              element('button', {
                type: 'button',
                className: 'move',
                textContent: `→ ${other}`,
                onclick: () => tasks.update(task.id, { status: other }),
              }),
            )
            const remove = element('button', {
              type: 'button',
              className: 'remove',
              textContent: '✕',
              title: 'Delete',
              onclick: () => tasks.delete(task.id),
            })
            return element('li', { className: 'task' }, [
              element('span', { className: 'title', textContent: task.title }),
              element('span', { className: 'actions' }, [...moves, remove]),
            ])
          }),
      )
    }
    const conflicts = model.conflicts({ collection: 'tasks' })
    conflictsBox.hidden = conflicts.length === 0
    conflictsBox.querySelector('ul')!.replaceChildren(
      ...conflicts.map((conflict) => {
        const title = tasks.get(conflict.id)?.title ?? conflict.id
        return element('li', { className: 'conflict' }, [
          element('span', { textContent: `“${title}” ${conflict.field}: ` }),
          ...conflict.values.map((value, index) =>
            element('button', {
              type: 'button',
              className: index === 0 ? 'pick winner' : 'pick',
              textContent: `${String(value.value)} (${value.author})`,
              title: index === 0 ? 'Shown now (latest write); click to keep it' : 'Keep this value',
              onclick: () => model.resolve(conflict, value.value),
            }),
          ),
        ])
      }),
    )
  }

  const onSubmit = (event: SubmitEvent): void => {
    event.preventDefault()
    const title = input.value.trim()
    if (!title) return
    tasks.create({ title, status: 'todo' })
    input.value = ''
  }
  form.addEventListener('submit', onSubmit)
  const off = tasks.observe(render)
  handle.on('synced', render)
  render()
  return () => {
    form.removeEventListener('submit', onSubmit)
    handle.off('synced', render)
    off()
  }
}
