import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@weft/server'
import { TEST_SECRET } from '@weft/testkit'
import { SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { parseCommand, type RelayConfig } from '../src/config.js'
import { startRelayServer, type RunningRelay } from '../src/relay-server.js'

let running: RunningRelay | undefined
let dir = ''

afterEach(async () => {
  await running?.close()
  running = undefined
  rmSync(dir, { recursive: true, force: true })
})

const configOf = (schemasFile: string): RelayConfig => {
  const command = parseCommand(
    ['--port', '0', '--data', join(dir, 'data'), '--auth', 'jwt', '--schemas-file', schemasFile],
    { WEFT_JWT_SECRET: TEST_SECRET },
  )
  if (command.kind !== 'run') throw new Error(`bad test config: ${JSON.stringify(command)}`)
  return command.config
}

const file = (content: unknown): string => {
  const path = join(dir, 'schemas.json')
  writeFileSync(path, JSON.stringify(content))
  return path
}

const schema = { version: 1, collections: { tasks: { title: 'string' } } }

const token = (sub: string, roles: readonly string[] = []): Promise<string> =>
  new SignJWT({ weft: { docs: [{ pattern: '**', access: 'write' }], roles } })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(TEST_SECRET))

describe('record rules in --schemas-file', () => {
  it('are enforced on the records of matching documents', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-rules-'))
    const rules = { tasks: { update: ['owner', { role: 'admin' }] } }
    running = await startRelayServer(
      configOf(file({ schemas: [{ pattern: 'boards/*', schema, rules }] })),
      silentLogger,
    )
    const change = async (sub: string, op: unknown, roles: readonly string[] = []) => {
      const response = await fetch(`${running?.url}/v1/docs/boards%2F1/records`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await token(sub, roles)}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ changes: [op] }),
      })
      return { status: response.status, body: (await response.json()) as { code?: string } }
    }
    const create = { op: 'create', collection: 'tasks', id: 't1', fields: { title: 'Ship' } }
    expect((await change('ana', create)).status).toBe(200)
    const update = { op: 'update', collection: 'tasks', id: 't1', fields: { title: 'Mine' } }
    expect(await change('ben', update)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
    expect((await change('root', update, ['admin'])).status).toBe(200)
  })

  it('are refused before serving when they do not fit the schema, naming the entry', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-rules-'))
    const unknown = file({ schemas: [{ pattern: 'a/*', schema, rules: { people: {} } }] })
    await expect(startRelayServer(configOf(unknown), silentLogger)).rejects.toThrow(
      /schemas\[0\]\.rules\.people: the schema has no collection "people"/,
    )
    const bad = file({ schemas: [{ pattern: 'a/*', schema, rules: { tasks: { update: 'me' } } }] })
    await expect(startRelayServer(configOf(bad), silentLogger)).rejects.toThrow(
      /schemas\[0\]\.rules\.tasks\.update/,
    )
  })
})
