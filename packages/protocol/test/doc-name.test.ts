import { describe, expect, it } from 'vitest'
import { checkDocName, MAX_DOC_NAME_BYTES } from '../src/index.js'

const expectBad = (name: unknown, reason: RegExp): void => {
  const error = checkDocName(name)
  expect(error?.code).toBe('BAD_DOC_NAME')
  expect(error?.closeCode).toBe(4404)
  expect(error?.message).toMatch(reason)
}

describe('checkDocName', () => {
  it.each([
    ['a one-character name', 'a'],
    ['a path-like name', 'team/42/notes'],
    ['spaces and punctuation', 'Q3 plan (draft) #2 ~ v1.0'],
    ['2-, 3- and 4-byte UTF-8', 'café/日本/📝'],
    ['a right-to-left name', 'مستند'],
    ['a combining accent', 'e\u0301'],
  ])('accepts %s', (_, name) => {
    expect(checkDocName(name)).toBeUndefined()
  })

  it('counts the limit in UTF-8 bytes, not characters', () => {
    expect(MAX_DOC_NAME_BYTES).toBe(512)
    expect(checkDocName('a'.repeat(512))).toBeUndefined()
    expectBad('a'.repeat(513), /over 512 UTF-8 bytes/)
    // '日' is 3 bytes: 170 of them and 2 ASCII bytes make exactly 512 bytes in 172 characters.
    expect(checkDocName(`${'日'.repeat(170)}ab`)).toBeUndefined()
    expectBad(`${'日'.repeat(170)}abc`, /over 512 UTF-8 bytes/)
    expectBad('日'.repeat(171), /over 512 UTF-8 bytes/)
    // '📝' is 4 bytes and 2 UTF-16 units: 128 of them are 512 bytes in 256 units.
    expect(checkDocName('📝'.repeat(128))).toBeUndefined()
    expectBad('📝'.repeat(129), /over 512 UTF-8 bytes/)
  })

  it('refuses the empty name', () => {
    expectBad('', /non-empty string/)
  })

  it.each([undefined, null, 42, ['notes'], { name: 'notes' }])(
    'refuses the non-string %j',
    (name) => {
      expectBad(name, /non-empty string/)
    },
  )

  it.each([
    ['NUL', 'a\u0000b'],
    ['a newline', 'notes\n'],
    ['a tab', '\tnotes'],
    ['a carriage return', 'a\rb'],
    ['unit separator U+001F', 'a\u001fb'],
    ['DEL U+007F', 'a\u007fb'],
    ['C1 control U+0085', 'a\u0085b'],
    ['C1 control U+009F', 'a\u009fb'],
  ])('refuses a name with %s', (_, name) => {
    expectBad(name, /control characters/)
  })

  it.each([
    ['a lone high surrogate', 'a\ud83eb'],
    ['a lone low surrogate', 'a\udddeb'],
  ])('refuses a name with %s, which UTF-8 cannot carry', (_, name) => {
    expectBad(name, /unpaired surrogate/)
  })

  it('accepts a surrogate pair (an emoji)', () => {
    expect(checkDocName('notes-\ud83e\uddf5')).toBeUndefined()
  })

  it('returns the error instead of throwing it', () => {
    expect(() => checkDocName('')).not.toThrow()
  })
})
