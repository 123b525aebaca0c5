/** WeftClientProvider and useWeftClient: the app's one WeftClient, handed down through React context. */
import { WeftClient } from '@weft/client'
import { createContext, createElement, useContext, type ReactNode } from 'react'
import { invalid } from './invalid.js'

const ClientContext = createContext<WeftClient | null>(null)

/** Props of {@link WeftClientProvider}. */
export interface WeftClientProviderProps {
  /** The client the hooks below open documents on (`createClient(...)`, made once per app). */
  readonly client: WeftClient
  readonly children?: ReactNode
}

/**
 * Makes `client` the one `useDoc` and `useWeftClient` use in the tree below. The provider does
 * not close the client: it belongs to the app. Throws `INVALID_ARGUMENT` without a `WeftClient`.
 */
export const WeftClientProvider = ({ client, children }: WeftClientProviderProps): ReactNode => {
  if (!(client instanceof WeftClient)) {
    throw invalid(
      'WeftClientProvider needs a client: <WeftClientProvider client={createClient(…)}>',
    )
  }
  return createElement(ClientContext.Provider, { value: client }, children)
}

/** The client of the nearest {@link WeftClientProvider}, or `null` outside one. */
export const useProvidedClient = (): WeftClient | null => useContext(ClientContext)

/**
 * The client of the nearest {@link WeftClientProvider}. Throws `INVALID_ARGUMENT` outside one:
 * wrap the app in `<WeftClientProvider client={client}>`.
 */
export const useWeftClient = (): WeftClient => {
  const client = useContext(ClientContext)
  if (client === null) {
    throw invalid(
      'no WeftClientProvider above this component: wrap the app in <WeftClientProvider client={client}>',
    )
  }
  return client
}
