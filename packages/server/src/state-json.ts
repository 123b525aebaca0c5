/** stateJson: the one check and encoding of a state record's value, shared by every DocStore. */
import { WeftError } from '@weft/protocol'

/** JSON text of a state record's value (null: delete it); throws INVALID_ARGUMENT otherwise. */
export const stateJson = (key: string, value: unknown): string | null => {
  if (typeof key !== 'string' || key.length === 0) {
    throw new WeftError('INVALID_ARGUMENT', 'a state record needs a non-empty string key')
  }
  if (value === null) return null
  const json = value === undefined ? undefined : JSON.stringify(value)
  if (json === undefined) {
    throw new WeftError('INVALID_ARGUMENT', `state record "${key}" must hold a JSON value`)
  }
  return json
}
