import { createClient } from '@weft/client'
import { LevelLocalStore } from '@weft/client/level'
import { WeftClientProvider } from '@weft/react'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './app.js'
import { currentUser } from './identity.js'
import './styles.css'

// `npm run dev` points the page at its relay; built and served by the relay (`npm start`), the
// page connects back to where it came from.
const url =
  import.meta.env.VITE_WEFT_URL ??
  `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`
// The device's copy of each document (IndexedDB): the app opens offline and keeps unsaved edits.
// Tabs of one browser share one connection to the relay.
const store = await LevelLocalStore.open({ location: 'weft-starter' })
const client = createClient({ url, store })
const room = new URLSearchParams(location.search).get('room') ?? 'starter'

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <WeftClientProvider client={client}>
      <App room={room} user={currentUser()} />
    </WeftClientProvider>
  </StrictMode>,
)
