/** The error every hook throws for a bad argument. */
import { WeftError } from '@weft/protocol'

/** A `WeftError` with code `INVALID_ARGUMENT` and `message` (which says what to pass instead). */
export const invalid = (message: string): WeftError => new WeftError('INVALID_ARGUMENT', message)
