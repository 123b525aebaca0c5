import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { promtoolPath } from '@weft/testkit'
import { describe, expect, it } from 'vitest'

const dir = join(import.meta.dirname, '../../../ops/prometheus')

/** Runs promtool in ops/prometheus; its output, or its failure's output as the error. */
const promtool = (...args: string[]): string => {
  try {
    return execFileSync(promtoolPath(), args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' })
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string }
    throw new Error(`promtool ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`)
  }
}

describe('ops/prometheus/weft-alerts.yml', () => {
  it('is valid for promtool', () => {
    expect(promtool('check', 'rules', 'weft-alerts.yml')).toMatch(/SUCCESS: \d+ rules found/)
  })

  it('passes its unit tests: each alert fires on a scripted series and stays quiet on a healthy one', () => {
    expect(promtool('test', 'rules', 'weft-alerts.test.yml')).toContain('SUCCESS')
  })
})
