import { Suspense } from 'react'
import { Board } from './board.js'
import type { User } from './identity.js'
import { Note } from './note.js'

export const App = ({ room, user }: { room: string; user: User }) => (
  <main>
    <header>
      <h1>Weft starter</h1>
      <span className="me" style={{ color: user.color }}>
        you are {user.name}
      </span>
    </header>
    <Suspense fallback={<p>Opening the board…</p>}>
      <Board name={`${room}/board`} user={user} />
    </Suspense>
    <Note name={`${room}/note`} user={user} />
  </main>
)
