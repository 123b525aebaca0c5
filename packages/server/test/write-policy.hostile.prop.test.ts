/**
 * Hostile updates that look like the model, against a relay with a schema and record rules (the
 * smoke size of the model fuzzing; `pnpm reliability --only fuzz` runs it long, against a relay
 * process).
 */
import { jwtAuth } from '@weft/server'
import {
  chooseSeed,
  MODEL_FUZZ_RULES,
  MODEL_FUZZ_SCHEMA,
  runModelFuzz,
  startTestRelay,
  TEST_SECRET,
  writeToken,
  type TestRelay,
} from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'

const EXECUTIONS = 60

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

describe('hostile updates that look like the model', () => {
  it('are refused on both paths whatever their order; the store keeps only honest edits', async () => {
    const seed = chooseSeed('write-policy hostile')
    relay = await startTestRelay({
      httpApi: true,
      auth: jwtAuth({ secret: TEST_SECRET }),
      schemas: [{ pattern: 'boards/*', schema: MODEL_FUZZ_SCHEMA, rules: MODEL_FUZZ_RULES }],
    })
    const result = await runModelFuzz({
      url: relay.url,
      httpUrl: relay.httpUrl,
      seed,
      executions: EXECUTIONS,
      doc: 'boards/fuzz',
      token: (sub) => writeToken(sub),
    })
    console.log('model fuzz', JSON.stringify(result))
    expect(result.accepted, `seed=${seed}`).toEqual([])
    expect((result.refused['FORBIDDEN'] ?? 0) + (result.refused['SCHEMA_VIOLATION'] ?? 0)).toBe(
      EXECUTIONS,
    )
    expect(result.keptAside).toBeGreaterThan(0)
    expect(result.damage, `seed=${seed}`).toEqual([])
  })
})
