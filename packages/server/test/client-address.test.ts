import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { DEFAULT_TRUSTED_PROXIES, TrustedProxies } from '../src/client-address.js'

const request = (remoteAddress: string, headers: Record<string, string> = {}): IncomingMessage =>
  ({ socket: { remoteAddress }, headers }) as unknown as IncomingMessage

const defaults = new TrustedProxies(DEFAULT_TRUSTED_PROXIES)

describe('TrustedProxies', () => {
  it('believes X-Forwarded-For from a proxy on loopback or a private network', () => {
    const forwarded = { 'x-forwarded-for': '198.51.100.7' }
    expect(defaults.clientOf(request('127.0.0.1', forwarded))).toBe('198.51.100.7')
    expect(defaults.clientOf(request('::ffff:10.1.2.3', forwarded))).toBe('198.51.100.7')
    expect(defaults.clientOf(request('::1', forwarded))).toBe('198.51.100.7')
  })

  it('ignores the headers of a peer that is not a trusted proxy', () => {
    const spoofed = { 'x-forwarded-for': '198.51.100.7', forwarded: 'for=198.51.100.8' }
    expect(defaults.clientOf(request('203.0.113.9', spoofed))).toBe('203.0.113.9')
    expect(new TrustedProxies([]).clientOf(request('127.0.0.1', spoofed))).toBe('127.0.0.1')
  })

  it('takes the nearest untrusted hop, so a client cannot forge what its proxies add', () => {
    // The client wrote "1.1.1.1" itself; the proxies appended what they saw.
    const chain = { 'x-forwarded-for': '1.1.1.1, 198.51.100.7, 10.0.0.5' }
    expect(defaults.clientOf(request('127.0.0.1', chain))).toBe('198.51.100.7')
    const allTrusted = { 'x-forwarded-for': '10.0.0.9, 10.0.0.5' }
    expect(defaults.clientOf(request('127.0.0.1', allTrusted))).toBe('10.0.0.9')
  })

  it('reads RFC 7239 Forwarded with quotes, ports and IPv6', () => {
    const header = { forwarded: 'for="[2001:db8::17]:4711";proto=https, for=10.0.0.2:80' }
    expect(defaults.clientOf(request('127.0.0.1', header))).toBe('2001:db8::17')
    expect(defaults.clientOf(request('127.0.0.1', { forwarded: 'for=192.0.2.60' }))).toBe(
      '192.0.2.60',
    )
  })

  it('falls back to the proxy when the chain is malformed or absent', () => {
    expect(defaults.clientOf(request('127.0.0.1', { 'x-forwarded-for': 'unknown' }))).toBe(
      '127.0.0.1',
    )
    expect(defaults.clientOf(request('127.0.0.1'))).toBe('127.0.0.1')
  })

  it('takes addresses and CIDRs, and names the entry it cannot read', () => {
    const custom = new TrustedProxies(['203.0.113.0/24', '2001:db8::1'])
    expect(custom.trusts('203.0.113.200')).toBe(true)
    expect(custom.trusts('2001:db8::1')).toBe(true)
    expect(custom.trusts('127.0.0.1')).toBe(false)
    for (const bad of ['10.0.0.0/33', 'proxy.example.com', '1.2.3.4/8/9', ''])
      expect(() => new TrustedProxies([bad])).toThrow(
        expect.objectContaining({
          code: 'INVALID_ARGUMENT',
          message: expect.stringContaining(bad),
        }),
      )
  })
})
