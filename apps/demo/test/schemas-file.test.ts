import { readFileSync } from 'node:fs'
import { schemaToJson } from '@weft/doc'
import { describe, expect, it } from 'vitest'
import { boardSchema } from '../src/schema.js'

describe('apps/demo/schemas.json', () => {
  it('is the demo board schema, for the relay to describe task changes in its feed', () => {
    const file = JSON.parse(readFileSync(new URL('../schemas.json', import.meta.url), 'utf8')) as {
      schemas: Array<{ pattern: string; schema: unknown }>
    }
    expect(file.schemas).toEqual([{ pattern: '**', schema: schemaToJson(boardSchema) }])
  })
})
