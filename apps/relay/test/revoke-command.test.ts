import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ERROR_CODES } from '@weft/protocol'
import { silentLogger } from '@weft/server'
import { RawSocket, signedToken, TEST_SECRET } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { parseCommand, type RelayConfig } from '../src/config.js'
import { startRelayServer, type RunningRelay } from '../src/relay-server.js'
import { parseDurationMs, parseRevokeCommand, runRevokeCommand } from '../src/revoke-command.js'

const ADMIN = 'an-admin-token-of-at-least-32-characters'
let running: RunningRelay | undefined
let dataDir = ''
const sockets: RawSocket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close()
  await running?.close()
  running = undefined
  rmSync(dataDir, { recursive: true, force: true })
})

const start = async (): Promise<RunningRelay> => {
  dataDir = mkdtempSync(join(tmpdir(), 'weft-revoke-'))
  const command = parseCommand(
    [
      '--port',
      '0',
      '--data',
      dataDir,
      '--auth',
      'jwt',
      '--jwt-secret',
      TEST_SECRET,
      '--admin-token',
      ADMIN,
    ],
    {},
  )
  if (command.kind !== 'run') throw new Error(`bad test config: ${JSON.stringify(command)}`)
  running = await startRelayServer(command.config as RelayConfig, silentLogger)
  return running
}

const call = (path: string, init: RequestInit = {}, token = ADMIN): Promise<Response> =>
  fetch(`${running?.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  })

const post = (body: unknown): Promise<Response> =>
  call('/admin/revocations', { method: 'POST', body: JSON.stringify(body) })

/** Runs `relay revoke <args>` against the running relay; its exit code and output. */
const cli = async (args: string[]) => {
  const parsed = parseRevokeCommand(args, {
    WEFT_RELAY_URL: running?.url,
    WEFT_ADMIN_TOKEN: ADMIN,
  })
  if (parsed.kind !== 'revoke') throw new Error(`not a revoke command: ${JSON.stringify(parsed)}`)
  let out = ''
  const errors: string[] = []
  const code = await runRevokeCommand(parsed, {
    out: (text) => {
      out += text
    },
    err: (line) => errors.push(line),
  })
  return { code, out, errors }
}

const closeCodeOf = async (url: string, token: string): Promise<number> => {
  const raw = await RawSocket.hello(url.replace('http', 'ws'), token)
  sockets.push(raw)
  const welcome = raw
    .nextMessage((message) => message.type === 'welcome', 2_000)
    .then(
      () => 0,
      () => -1,
    )
  const closed = raw.closed.then(({ code }) => code)
  const first = await Promise.race([welcome, closed])
  return first === 0 ? 0 : closed
}

describe('the /admin/revocations routes', () => {
  it('add, list and lift revocations, which the relay enforces', async () => {
    const relay = await start()
    const old = await signedToken('mallory', { issuedAtSec: Math.floor(Date.now() / 1000) - 5 })
    expect(await closeCodeOf(relay.url, old)).toBe(0)
    const added = await post({ subject: 'mallory', ttlMs: 60_000, reason: 'account closed' })
    expect(added.status).toBe(201)
    const revocation = (await added.json()) as { id: string; expiresAtMs: number }
    expect(revocation).toMatchObject({ subject: 'mallory', reason: 'account closed' })
    expect(await closeCodeOf(relay.url, old)).toBe(ERROR_CODES.REVOKED.closeCode)
    const listed = await call('/admin/revocations')
    expect(await listed.json()).toEqual({ revocations: [revocation] })
    const lifted = await call(`/admin/revocations/${revocation.id}`, { method: 'DELETE' })
    expect(lifted.status).toBe(200)
    expect(await closeCodeOf(relay.url, old)).toBe(0)
    const again = await call(`/admin/revocations/${revocation.id}`, { method: 'DELETE' })
    expect(again.status).toBe(404)
    expect(await again.json()).toMatchObject({ code: 'NOT_FOUND' })
  })

  it('answer bad input with 400 and a code, and a wrong token with 401', async () => {
    await start()
    const bad: unknown[] = [
      {},
      { subject: 'a' },
      { subject: 'a', tokenId: 'b', ttlMs: 1_000 },
      { subject: 'a', ttlMs: '1h' },
      { subject: 'a', ttlMs: 1_000, expiresAtMs: Date.now() + 1_000 },
      { subject: 'a', expiresAtMs: Date.now() - 1_000 },
      { subject: 'a', ttlMs: 1_000, admin: true },
      [],
      'subject',
    ]
    for (const body of bad) {
      const answer = await post(body)
      expect(answer.status, JSON.stringify(body)).toBe(400)
      expect(await answer.json()).toMatchObject({ code: 'INVALID_ARGUMENT' })
    }
    const garbage = await call('/admin/revocations', { method: 'POST', body: '{' })
    expect(garbage.status).toBe(400)
    const wrong = await call('/admin/revocations', {}, `${ADMIN}x`)
    expect(wrong.status).toBe(401)
    expect(await (await call('/admin/revocations')).json()).toEqual({ revocations: [] })
  })
})

describe('relay revoke', () => {
  it('revokes by subject or token id, lists and lifts through a running relay', async () => {
    const relay = await start()
    const stolen = await signedToken('alice', { tokenId: 'stolen' })
    const laptop = await signedToken('alice', { tokenId: 'laptop' })
    const added = await cli(['--token-id', 'stolen', '--ttl', '2h', '--reason', 'leaked'])
    expect(added.code).toBe(0)
    const revocation = JSON.parse(added.out) as { id: string; revokedAtMs: number }
    expect(revocation).toMatchObject({ tokenId: 'stolen', reason: 'leaked' })
    expect(await closeCodeOf(relay.url, stolen)).toBe(ERROR_CODES.REVOKED.closeCode)
    expect(await closeCodeOf(relay.url, laptop)).toBe(0)
    const listed = await cli(['list'])
    expect(JSON.parse(listed.out)).toEqual({ revocations: [revocation] })
    expect((await cli(['lift', revocation.id])).code).toBe(0)
    expect(await closeCodeOf(relay.url, stolen)).toBe(0)
    const missing = await cli(['lift', revocation.id])
    expect(missing.code).toBe(1)
    expect(missing.errors.join('\n')).toMatch(/404: NOT_FOUND/)
  })

  it('parses durations and refuses incomplete or contradictory flags', () => {
    expect(parseDurationMs('90s')).toBe(90_000)
    expect(parseDurationMs('7d')).toBe(604_800_000)
    expect(parseDurationMs('500')).toBe(500)
    expect(parseDurationMs('1.5h')).toBeNaN()
    const env = { WEFT_RELAY_URL: 'http://127.0.0.1:1', WEFT_ADMIN_TOKEN: ADMIN }
    for (const args of [
      ['--subject', 'a'],
      ['--subject', 'a', '--token-id', 'b', '--ttl', '1h'],
      ['--subject', 'a', '--ttl', '1h', '--expires-at', '2030-01-01'],
      ['--subject', 'a', '--ttl', 'soon'],
      ['--subject', 'a', '--expires-at', 'someday'],
      ['lift'],
      ['forget'],
      ['list', 'extra'],
    ]) {
      expect(parseRevokeCommand(args, env).kind, args.join(' ')).toBe('invalid')
    }
    expect(parseRevokeCommand(['list'], {}).kind).toBe('invalid')
    expect(parseRevokeCommand(['list'], { WEFT_RELAY_URL: 'http://x' }).kind).toBe('invalid')
    expect(parseRevokeCommand(['--subject', 'a', '--ttl', '1h'], env)).toMatchObject({
      kind: 'revoke',
      action: 'add',
      body: { subject: 'a', ttlMs: 3_600_000 },
    })
    expect(parseRevokeCommand(['--help'], {}).kind).toBe('help')
  })
})
