import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { envName, helpText, OPTIONS, parseCommand } from '../src/config.js'

describe('relay configuration', () => {
  it('uses defaults when only the required --auth is given', () => {
    const command = parseCommand(['--auth', 'open'], {})
    expect(command).toMatchObject({
      kind: 'run',
      config: { port: 8787, data: './data', store: 'level' },
    })
  })

  it('reads flags, then WEFT_* variables, flags winning', () => {
    const command = parseCommand(['--port', '9000'], {
      WEFT_AUTH: 'open',
      WEFT_PORT: '9100',
      WEFT_DATA: '/srv/weft',
      WEFT_MAX_DOCS_PER_SOCKET: '8',
    })
    expect(command).toMatchObject({
      kind: 'run',
      config: { port: 9000, data: '/srv/weft', 'max-docs-per-socket': 8 },
    })
  })

  it('ignores empty variables', () => {
    expect(parseCommand(['--auth', 'open'], { WEFT_PORT: '' })).toMatchObject({
      kind: 'run',
      config: { port: 8787 },
    })
  })

  it('names the bad option and its source', () => {
    expect(parseCommand(['--port', 'eighty'], {})).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('--port=eighty'),
    })
    expect(parseCommand([], { WEFT_STORE: 'redis' })).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('WEFT_STORE=redis'),
    })
    expect(parseCommand(['--max-message-bytes', '0'], {})).toMatchObject({ kind: 'invalid' })
    expect(parseCommand(['--colour'], {})).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('--help'),
    })
  })

  it('reads a --config JSON file under variables and flags, naming its bad keys and values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-config-'))
    const file = join(dir, 'relay.json')
    writeFileSync(
      file,
      JSON.stringify({
        auth: 'open',
        port: 9200,
        data: '/from/file',
        sync: false,
        'allowed-origins': ['https://a.example', 'https://b.example'],
      }),
    )
    expect(
      parseCommand(['--config', file, '--port', '9300'], { WEFT_DATA: '/from/env' }),
    ).toMatchObject({
      kind: 'run',
      config: {
        auth: 'open',
        port: 9300,
        data: '/from/env',
        sync: false,
        'allowed-origins': ['https://a.example', 'https://b.example'],
      },
    })
    expect(parseCommand([], { WEFT_CONFIG: file })).toMatchObject({
      kind: 'run',
      config: { port: 9200, data: '/from/file' },
    })
    writeFileSync(file, JSON.stringify({ auth: 'open', stroe: 'memory' }))
    expect(parseCommand(['--config', file], {})).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('unknown option "stroe"'),
    })
    writeFileSync(file, JSON.stringify({ auth: 'open', store: 'redis' }))
    expect(parseCommand(['--config', file], {})).toMatchObject({
      kind: 'invalid',
      message: expect.stringMatching(/relay\.json "store"=redis: .*level.*memory/),
    })
    writeFileSync(file, '{ "port": ')
    expect(parseCommand(['--config', file], {})).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('cannot be read'),
    })
    expect(parseCommand(['--config', join(dir, 'missing.json')], {})).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('ENOENT'),
    })
  })

  it('requires --auth, and for jwt exactly one key source', () => {
    expect(parseCommand([], {})).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('--auth is required'),
    })
    const secret = 'x'.repeat(32)
    expect(parseCommand(['--auth', 'jwt'], {})).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('exactly one of'),
    })
    expect(
      parseCommand(['--auth', 'jwt', '--jwks-url', 'https://id.example/jwks.json'], {
        WEFT_JWT_SECRET: secret,
      }),
    ).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('--jwt-secret, --jwks-url'),
    })
    expect(parseCommand(['--auth', 'open', '--jwt-secret', secret], {})).toMatchObject({
      kind: 'invalid',
    })
    expect(parseCommand(['--auth', 'jwt', '--jwt-secret', 'short'], {})).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('at least 32'),
    })
    expect(parseCommand(['--auth', 'jwt'], { WEFT_JWT_SECRET: secret })).toMatchObject({
      kind: 'run',
      config: { auth: 'jwt', 'jwt-secret': secret, 'jwt-clock-tolerance-sec': 30 },
    })
  })

  it('reads --presence-claims as field=claim pairs and names a bad pair', () => {
    expect(
      parseCommand(
        ['--auth', 'open', '--presence-claims', 'user.name=name, user.color = weft.color'],
        {},
      ),
    ).toMatchObject({
      kind: 'run',
      config: { 'presence-claims': { 'user.name': 'name', 'user.color': 'weft.color' } },
    })
    expect(parseCommand(['--auth', 'open', '--presence-claims', 'user.name'], {})).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('"user.name" is not field=claim'),
    })
  })

  it('--help lists every option with its variable and default', () => {
    const command = parseCommand(['--help'], {})
    expect(command.kind).toBe('help')
    const text = helpText()
    for (const name of Object.keys(OPTIONS)) {
      expect(text).toContain(`--${name}`)
      expect(text).toContain(envName(name))
    }
    expect(text).toContain('default 8787')
  })
})

describe('the README options table', () => {
  it('lists every option with its default, and nothing else', async () => {
    const { readFile } = await import('node:fs/promises')
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8')
    const rows = [...readme.matchAll(/^\| `--([a-z-]+)`\s*\| `([^`]*)`/gm)].map((match) => [
      match[1],
      match[2],
    ])
    const expected = Object.entries(OPTIONS).map(([name, option]) => {
      const fallback: unknown = option.schema.parse(undefined)
      return [
        name,
        fallback !== undefined ? String(fallback) : name === 'auth' ? 'required' : 'none',
      ]
    })
    expect(rows).toEqual(expected)
  })
})
