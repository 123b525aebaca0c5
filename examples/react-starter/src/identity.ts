// Who this tab is: a name and a colour for presence and the editor's caret, kept per tab.
const NAMES = ['Ana', 'Ben', 'Chloé', 'Dev', 'Eun', 'Farah', 'Gus', 'Hana']
const COLORS = ['#e5484d', '#3e63dd', '#30a46c', '#f76b15', '#8e4ec6', '#12a594']

export interface User {
  readonly name: string
  readonly color: string
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T

export const currentUser = (): User => {
  const saved = sessionStorage.getItem('weft-starter-user')
  if (saved !== null) return JSON.parse(saved) as User
  const user = { name: pick(NAMES), color: pick(COLORS) }
  sessionStorage.setItem('weft-starter-user', JSON.stringify(user))
  return user
}
