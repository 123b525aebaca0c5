/** Reading a relay's `/metrics` in tests. */
import { expect } from 'vitest'

/** `/metrics` as a map from `name{labels}` to value. */
export const scrape = async (url: string): Promise<Map<string, number>> => {
  const response = await fetch(`${url}/metrics`)
  expect(response.headers.get('content-type')).toContain('text/plain')
  const samples = new Map<string, number>()
  for (const line of (await response.text()).split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue
    const at = line.lastIndexOf(' ')
    samples.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return samples
}

/**
 * Scrapes `url` until `check` holds for its samples and resolves with them (the relay reports no
 * event a test could await: a gauge or a close changes on the relay's time); throws with the
 * samples `check` names after `timeoutMs`.
 */
export const untilScraped = async (
  url: string,
  check: (value: (key: string) => number) => boolean,
  timeoutMs = 10_000,
): Promise<Map<string, number>> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const samples = await scrape(url)
    const seen = new Map<string, number>()
    const value = (key: string): number => {
      const found = samples.get(key) ?? Number.NaN
      seen.set(key, found)
      return found
    }
    if (check(value)) return samples
    if (Date.now() > deadline)
      throw new Error(`/metrics of ${url} still had ${JSON.stringify([...seen])}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
