/**
 * The options of a relay in a cluster (`--store`, `--postgres-url`, `--redis-url`) from each
 * source the relay reads, and the production-like layout in deploy/cluster kept in line with
 * them: its variables are options the relay knows, and they configure a relay on PostgreSQL and
 * Redis that HAProxy checks on `/readyz`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { envName, OPTIONS, parseCommand } from '../src/config.js'

const POSTGRES = 'postgres://weft:pw-0123@db:5432/weft'
const REDIS = 'redis://bus:6379'
const DEPLOY = new URL('../../../deploy/cluster/', import.meta.url)

describe('--store, --postgres-url and --redis-url', () => {
  it('come from flags, WEFT_* variables or the config file, flags winning over variables over the file', () => {
    const wanted = { store: 'postgres', 'postgres-url': POSTGRES, 'redis-url': REDIS }
    expect(
      parseCommand(
        ['--auth', 'open', '--store', 'postgres', '--postgres-url', POSTGRES, '--redis-url', REDIS],
        {},
      ),
    ).toMatchObject({ kind: 'run', config: wanted })
    expect(
      parseCommand(['--auth', 'open'], {
        WEFT_STORE: 'postgres',
        WEFT_POSTGRES_URL: POSTGRES,
        WEFT_REDIS_URL: REDIS,
      }),
    ).toMatchObject({ kind: 'run', config: wanted })

    const file = join(mkdtempSync(join(tmpdir(), 'weft-config-cluster-')), 'relay.json')
    writeFileSync(file, JSON.stringify({ auth: 'open', ...wanted }))
    expect(parseCommand(['--config', file], {})).toMatchObject({ kind: 'run', config: wanted })
    expect(parseCommand([], { WEFT_CONFIG: file })).toMatchObject({ kind: 'run', config: wanted })

    const other = 'redis://other:6379'
    expect(
      parseCommand(['--config', file, '--redis-url', other], { WEFT_REDIS_URL: 'redis://x:1' }),
    ).toMatchObject({ kind: 'run', config: { 'redis-url': other } })
    expect(parseCommand(['--config', file], { WEFT_REDIS_URL: other })).toMatchObject({
      kind: 'run',
      config: { 'redis-url': other },
    })
  })

  it('take memory and level too, and refuse a bus on a store of one relay', () => {
    expect(parseCommand(['--auth', 'open', '--store', 'memory'], {})).toMatchObject({
      kind: 'run',
      config: { store: 'memory' },
    })
    expect(parseCommand(['--auth', 'open'], { WEFT_STORE: 'level' })).toMatchObject({
      kind: 'run',
      config: { store: 'level' },
    })
    expect(parseCommand(['--auth', 'open', '--store', 'level'], { WEFT_REDIS_URL: REDIS })).toEqual(
      { kind: 'invalid', message: expect.stringContaining('--redis-url') },
    )
  })
})

/** `KEY: value` lines of the `environment` block of compose.yaml's relay anchor. */
const relayEnvironment = (compose: string): Record<string, string> => {
  const block = /environment: &relay-env\n((?: {4}\S[^\n]*\n)+)/.exec(compose)
  expect(block, 'the relay anchor has an environment block').not.toBeNull()
  return Object.fromEntries(
    block![1]!
      .trimEnd()
      .split('\n')
      .map((line) => {
        const [, key, value] = /^ {4}(\w+): (.*)$/.exec(line) ?? []
        expect(key, line).toBeDefined()
        // Compose substitutes ${NAME:?message} from the shell; a placeholder stands in here.
        const substituted = value!.replace(/\$\{(\w+):\?[^}]*\}/g, (_, name: string) =>
          name === 'WEFT_JWT_SECRET' ? 'a-secret-of-32-bytes-or-more-0123456789' : `${name}-value`,
        )
        return [key!, substituted.replace(/^'(.*)'$/, '$1')]
      }),
  )
}

describe('deploy/cluster', () => {
  const compose = readFileSync(new URL('compose.yaml', DEPLOY), 'utf8')
  const haproxy = readFileSync(new URL('haproxy.cfg', DEPLOY), 'utf8')
  const dockerfile = readFileSync(new URL('../../Dockerfile', DEPLOY), 'utf8')

  it("compose.yaml configures each relay with the relay's own variables: PostgreSQL and Redis", () => {
    const env = relayEnvironment(compose)
    const known = new Set([...Object.keys(OPTIONS).map(envName), 'WEFT_CONFIG'])
    for (const key of Object.keys(env))
      expect(known.has(key), `${key} is a relay variable`).toBe(true)
    // The image's own variables (host, port, data) complete them, as in the container.
    const image = Object.fromEntries(
      [...(/ENV (WEFT_[^\n]+)/.exec(dockerfile)?.[1] ?? '').matchAll(/(WEFT_\w+)=(\S+)/g)].map(
        (match) => [match[1]!, match[2]!],
      ),
    )
    expect(image).toMatchObject({ WEFT_HOST: '0.0.0.0', WEFT_PORT: '8787' })
    const parsed = parseCommand([], { ...image, ...env })
    expect(parsed).toMatchObject({
      kind: 'run',
      config: {
        store: 'postgres',
        'postgres-url': 'postgres://weft:POSTGRES_PASSWORD-value@postgres:5432/weft',
        'redis-url': 'redis://redis:6379',
        auth: 'jwt',
        port: 8787,
      },
    })
    // The services those URLs name exist, and the relays wait for them to be healthy.
    for (const service of ['postgres', 'redis']) {
      expect(compose).toMatch(new RegExp(`\\n  ${service}:\\n`))
      expect(compose).toMatch(new RegExp(`\\n    ${service}:\\n      condition: service_healthy`))
    }
  })

  it('HAProxy checks /readyz on port 8787 of each of the three relays', () => {
    const relays = [...compose.matchAll(/^ {2}(relay-\d+): \*relay$/gm)].map((match) => match[1])
    expect(relays).toEqual(['relay-1', 'relay-2', 'relay-3'])
    expect(haproxy).toMatch(/\n {2}option httpchk GET \/readyz\n {2}http-check expect status 200\n/)
    const servers = [...haproxy.matchAll(/\n {2}server (\S+) (\S+):(\d+)/g)].map((match) => [
      match[1],
      match[2],
      match[3],
    ])
    expect(servers).toEqual(relays.map((relay) => [relay, relay, '8787']))
    // HAProxy's bind and the image's healthcheck use the same port and path.
    expect(haproxy).toMatch(/\n {2}bind :8787\n/)
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*\/readyz/)
  })
})
