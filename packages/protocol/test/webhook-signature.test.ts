import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { signWebhook, verifyWebhook } from '../src/webhook-signature.js'

const SECRET = 'whsec-test-secret-of-some-length'
const body = '{"events":[{"id":"1"}]}'

describe('webhook signatures', () => {
  it('signs HMAC-SHA256 of "<t>.<body>" as t=…,v1=…, which node:crypto agrees with', async () => {
    const header = await signWebhook([SECRET], body, 1_700_000_000)
    const hex = createHmac('sha256', SECRET).update(`1700000000.${body}`).digest('hex')
    expect(header).toBe(`t=1700000000,v1=${hex}`)
  })

  it('verifies the body as sent, with any of the secrets during a rotation', async () => {
    const header = await signWebhook(['old-secret', SECRET], new TextEncoder().encode(body), 1000)
    expect(await verifyWebhook({ body, header, secret: SECRET, nowSec: 1010 })).toEqual({
      ok: true,
      timestampSec: 1000,
    })
    expect(await verifyWebhook({ body, header, secret: 'old-secret', nowSec: 1010 })).toMatchObject(
      {
        ok: true,
      },
    )
  })

  it('refuses an altered body, a wrong secret, a stale or missing or malformed header', async () => {
    const header = await signWebhook([SECRET], body, 1000)
    const check = (over: Partial<Parameters<typeof verifyWebhook>[0]>) =>
      verifyWebhook({ body, header, secret: SECRET, nowSec: 1000, ...over })
    expect(await check({ body: body.replace('1', '2') })).toMatchObject({ ok: false })
    expect(await check({ secret: 'another-secret' })).toMatchObject({ ok: false })
    expect(await check({ nowSec: 1000 + 301 })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('older than 300 s'),
    })
    expect(await check({ nowSec: 1000 + 30, toleranceSec: 10 })).toMatchObject({ ok: false })
    expect(await check({ header: undefined })).toMatchObject({ ok: false })
    expect(await check({ header: 't=1000' })).toMatchObject({ ok: false })
    expect(await check({ header: `v1=${'0'.repeat(64)}` })).toMatchObject({ ok: false })
    expect(await check({ header: header.replace(/v1=./, 'v1=g') })).toMatchObject({ ok: false })
    expect(await check({ secret: '' })).toMatchObject({ ok: false })
  })
})
