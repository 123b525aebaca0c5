/** Seeds for property tests: WEFT_SEED replays a failure, otherwise a random seed is printed. */

/**
 * Returns the seed for one property-test file: `WEFT_SEED` when set, otherwise a random 31-bit
 * integer. Prints `<label> seed=<seed>` once so a failing run can be replayed with
 * `WEFT_SEED=<seed>`.
 */
export const chooseSeed = (label: string): number => {
  const fromEnv = process.env['WEFT_SEED']
  const seed =
    fromEnv === undefined || fromEnv === ''
      ? Math.floor(Math.random() * 2 ** 31)
      : Number.parseInt(fromEnv, 10)
  if (!Number.isSafeInteger(seed)) throw new Error(`WEFT_SEED must be an integer, got ${fromEnv}`)
  console.log(`${label} seed=${seed}`)
  return seed
}
