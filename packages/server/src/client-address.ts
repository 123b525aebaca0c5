/** Client addresses behind reverse proxies: `X-Forwarded-For` and `Forwarded`, believed only from trusted proxies. */
import type { IncomingMessage } from 'node:http'
import { BlockList, isIP } from 'node:net'
import { WeftError } from '@weft/protocol'

/** Named groups of networks for `trustedProxies`. */
const NAMED: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: [
    '10.0.0.0/8',
    '172.16.0.0/12',
    '192.168.0.0/16',
    '169.254.0.0/16',
    '100.64.0.0/10',
    'fc00::/7',
    'fe80::/10',
  ],
}

/** The default: proxies on this machine or a private network (where reverse proxies live). */
export const DEFAULT_TRUSTED_PROXIES: readonly string[] = ['loopback', 'private']

/**
 * Which peers may tell the relay who their clients are. Built from addresses, CIDR ranges
 * (`10.0.0.0/8`, `2001:db8::/32`) and the names `loopback` and `private`; an empty list trusts
 * no one. Throws `INVALID_ARGUMENT` naming an entry it cannot read.
 */
export class TrustedProxies {
  readonly #list = new BlockList()
  readonly #empty: boolean

  constructor(entries: readonly string[]) {
    if (!Array.isArray(entries) || !entries.every((entry) => typeof entry === 'string')) {
      throw new WeftError('INVALID_ARGUMENT', 'trustedProxies must be a list of addresses or CIDRs')
    }
    for (const entry of entries) {
      for (const range of NAMED[entry] ?? [entry]) this.#add(range.trim())
    }
    this.#empty = entries.length === 0
  }

  /** Whether `address` (as a socket reports it) is a trusted proxy. */
  trusts(address: string): boolean {
    if (this.#empty) return false
    const plain = unmapped(address)
    const family = isIP(plain)
    return family !== 0 && this.#list.check(plain, family === 4 ? 'ipv4' : 'ipv6')
  }

  /**
   * The client's address: the socket's, or — when the socket is a trusted proxy — the nearest
   * address in the forwarding chain that is not itself a trusted proxy (`X-Forwarded-For`, else
   * `Forwarded`). A malformed chain counts as absent: the proxy's own address is used.
   */
  clientOf(request: IncomingMessage): string {
    const socketAddress = unmapped(request.socket.remoteAddress ?? 'unknown')
    if (!this.trusts(socketAddress)) return socketAddress
    const chain = forwardedChain(request)
    if (chain === null) return socketAddress
    for (let index = chain.length - 1; index >= 0; index--) {
      const hop = chain[index] as string
      if (!this.trusts(hop)) return hop
    }
    return chain[0] ?? socketAddress
  }

  #add(range: string): void {
    const [address, bits, extra] = range.split('/')
    const plain = unmapped(address ?? '')
    const family = isIP(plain)
    const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits)
    const max = family === 4 ? 32 : 128
    if (
      family === 0 ||
      extra !== undefined ||
      !Number.isInteger(prefix) ||
      prefix < 0 ||
      prefix > max
    ) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `trusted proxy "${range}" is not an address, a CIDR range or one of loopback, private`,
      )
    }
    this.#list.addSubnet(plain, prefix, family === 4 ? 'ipv4' : 'ipv6')
  }
}

/** `::ffff:1.2.3.4` (IPv4 on a dual-stack socket) as `1.2.3.4`. */
const unmapped = (address: string): string =>
  address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4
    ? address.slice(7)
    : address

/** The addresses a request passed through, client first; `null` without (valid) headers. */
const forwardedChain = (request: IncomingMessage): string[] | null => {
  const xff = request.headers['x-forwarded-for']
  const values =
    xff !== undefined
      ? (Array.isArray(xff) ? xff.join(',') : xff).split(',')
      : forwardedFor(request.headers['forwarded'])
  if (values === null || values.length === 0) return null
  const chain: string[] = []
  for (const value of values) {
    const address = unmapped(stripPort(value.trim()))
    if (isIP(address) === 0) return null
    chain.push(address)
  }
  return chain
}

/** The `for=` parameters of an RFC 7239 `Forwarded` header. */
const forwardedFor = (header: string | undefined): string[] | null => {
  if (header === undefined) return null
  const found: string[] = []
  for (const element of header.split(',')) {
    for (const pair of element.split(';')) {
      const [name, value] = pair.split('=')
      if (name?.trim().toLowerCase() === 'for' && value !== undefined)
        found.push(value.trim().replace(/^"|"$/g, ''))
    }
  }
  return found
}

/** `1.2.3.4:5678` → `1.2.3.4`, `[2001:db8::1]:80` → `2001:db8::1`; a bare address unchanged. */
const stripPort = (value: string): string => {
  if (value.startsWith('['))
    return value.slice(1, value.indexOf(']') > 0 ? value.indexOf(']') : undefined)
  const colons = value.split(':').length - 1
  return colons === 1 ? (value.split(':')[0] as string) : value
}
