/** Who this browser is in the demo: a name and a colour kept in localStorage. */

export interface Identity {
  readonly name: string
  readonly color: string
}

const COLORS = ['#e4572e', '#17bebb', '#ffc914', '#76b041', '#7d5ba6', '#2e86ab']

export const identity = (): Identity => {
  const saved = localStorage.getItem('weft-demo-identity')
  if (saved) return JSON.parse(saved) as Identity
  const number = Math.floor(Math.random() * 9000) + 1000
  const created = { name: `Guest ${number}`, color: COLORS[number % COLORS.length] as string }
  localStorage.setItem('weft-demo-identity', JSON.stringify(created))
  return created
}
