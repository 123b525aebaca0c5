import { describe, expect, it } from 'vitest'
import {
  compareWorkloadIds,
  FULL_SIZES,
  LONG_CHURN_MS,
  parseBenchArgs,
  QUICK_SIZES,
  type BenchOptions,
} from '../src/options.js'

const parsed = (...argv: string[]): BenchOptions => {
  const result = parseBenchArgs(argv, '/repo')
  if (result.kind !== 'run') throw new Error(result.text)
  return result.options
}

describe('parseBenchArgs', () => {
  it('takes 5b, 9, 10, 11, 12, 13, 14 and 15 in --only and keeps report order', () => {
    expect(parsed('--only', '15,14,13,12,10,5b,11,9,5').only).toEqual([
      '5',
      '5b',
      '9',
      '10',
      '11',
      '12',
      '13',
      '14',
      '15',
    ])
    expect(parseBenchArgs(['--only', '16'], '/repo')).toMatchObject({ kind: 'error' })
  })

  it('--long runs churn for 10 minutes, in either mode, and changes nothing else', () => {
    expect(parsed().sizes.churnDurationMs).toBe(FULL_SIZES.churnDurationMs)
    expect(parsed('--long').sizes).toEqual({ ...FULL_SIZES, churnDurationMs: LONG_CHURN_MS })
    expect(parsed('--quick', '--long').sizes).toEqual({
      ...QUICK_SIZES,
      churnDurationMs: LONG_CHURN_MS,
    })
  })

  it('documents --long and the new ids in --help', () => {
    const help = parseBenchArgs(['--help'], '/repo')
    expect(help.kind).toBe('help')
    expect(help.kind === 'help' && help.text).toMatch(/--long .*10 min/)
    expect(help.kind === 'help' && help.text).toContain('5b, 9, 10, 11, 12, 13')
  })
})

describe('compareWorkloadIds', () => {
  it('orders 5b after 5, 10 after 9 and 12 after 11', () => {
    expect(['12', '10', '9', '11', '5b', '6', '5', '1'].sort(compareWorkloadIds)).toEqual([
      '1',
      '5',
      '5b',
      '6',
      '9',
      '10',
      '11',
      '12',
    ])
  })
})
