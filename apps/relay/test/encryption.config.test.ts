import { describe, expect, it } from 'vitest'
import { helpText, parseCommand, parseReencryptCommand } from '../src/config.js'

describe('the --encryption-keys-file option', () => {
  it('is read from the flag or WEFT_ENCRYPTION_KEYS_FILE', () => {
    expect(
      parseCommand(['--auth', 'open', '--encryption-keys-file', 'keys.json'], {}),
    ).toMatchObject({
      kind: 'run',
      config: { 'encryption-keys-file': 'keys.json' },
    })
    expect(
      parseCommand(['--auth', 'open'], { WEFT_ENCRYPTION_KEYS_FILE: '/etc/weft/keys.json' }),
    ).toMatchObject({ kind: 'run', config: { 'encryption-keys-file': '/etc/weft/keys.json' } })
    expect(parseCommand(['--auth', 'open'], {})).toMatchObject({
      kind: 'run',
      config: { 'encryption-keys-file': undefined },
    })
  })

  it('is refused with the memory store, which keeps nothing on disk', () => {
    expect(
      parseCommand(['--auth', 'open', '--store', 'memory', '--encryption-keys-file', 'k.json'], {}),
    ).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('--store level and postgres'),
    })
  })
})

describe('relay reencrypt', () => {
  it('takes --data and the required --encryption-keys-file, as flags or variables', () => {
    expect(
      parseReencryptCommand(['--data', '/srv/weft', '--encryption-keys-file', 'k.json'], {}),
    ).toEqual({
      kind: 'reencrypt',
      config: { store: 'level', data: '/srv/weft', 'encryption-keys-file': 'k.json' },
    })
    expect(parseReencryptCommand([], { WEFT_ENCRYPTION_KEYS_FILE: 'k.json' })).toEqual({
      kind: 'reencrypt',
      config: { store: 'level', data: './data', 'encryption-keys-file': 'k.json' },
    })
    expect(parseReencryptCommand(['--data', 'd'], {})).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('needs --encryption-keys-file'),
    })
    expect(parseReencryptCommand(['--port', '1'], {})).toMatchObject({ kind: 'invalid' })
    expect(parseReencryptCommand(['--data', ''], {})).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('--data='),
    })
  })

  it('has its own --help, and the relay help points to it', () => {
    const help = parseReencryptCommand(['--help'], {})
    expect(help.kind).toBe('help')
    expect(help.kind === 'help' && help.text).toMatch(/--encryption-keys-file[\s\S]*WEFT_DATA/)
    expect(helpText()).toContain('pnpm relay reencrypt --help')
  })
})
