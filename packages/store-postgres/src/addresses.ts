/**
 * Where each sealed value lives, as the string the cipher binds it to (its additional
 * authenticated data): a value moved to another document, record or kind fails to decrypt.
 *
 * - `record:<seq>:<name>` a log record, `snapshot:<name>`, `histbase:<name>`
 * - `feed:<position>` a change-feed entry, `state:<key>` a state record
 *
 * Names are percent-encoded, so no name can forge another's address.
 */

export const recordAddress = (name: string, seq: number): string =>
  `record:${seq}:${encodeURIComponent(name)}`

export const snapshotAddress = (name: string): string => `snapshot:${encodeURIComponent(name)}`

export const histBaseAddress = (name: string): string => `histbase:${encodeURIComponent(name)}`

export const feedAddress = (position: number): string => `feed:${position}`

export const stateAddress = (key: string): string => `state:${key}`

/** Names an address for error messages: `log record 7 of document "notes"`. */
export const describeAddress = (address: string): string => {
  const [kind = '', ...rest] = address.split(':')
  const last = rest.at(-1) ?? ''
  switch (kind) {
    case 'record':
      return `log record ${rest[0]} of document "${decodeURIComponent(last)}"`
    case 'snapshot':
      return `snapshot of document "${decodeURIComponent(last)}"`
    case 'histbase':
      return `history base of document "${decodeURIComponent(last)}"`
    case 'feed':
      return `feed entry ${last}`
    case 'state':
      return `state record "${rest.join(':')}"`
    default:
      return `value at "${address}"`
  }
}
