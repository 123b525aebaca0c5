/**
 * A Vitest reporter that ends a failed run with a short digest: each failed test and each
 * unhandled error on one line, after the default summary, so the last lines of a CI log say
 * what failed even when only they are kept.
 */
import { relative } from 'node:path'
import type { Reporter, SerializedError, TestModule } from 'vitest/node'

/** Most lines a digest prints (the rest are counted). */
const MAX_LINES = 12

const firstLine = (text: string | undefined): string =>
  (text ?? '').split('\n', 1)[0]!.slice(0, 200)

const describeError = (error: SerializedError | undefined): string =>
  error === undefined
    ? 'no error recorded'
    : `${error.name ?? 'Error'}: ${firstLine(error.message)}`

export default class FailureDigest implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
  ): void {
    const lines: string[] = []
    for (const testModule of testModules) {
      const file = relative(process.cwd(), testModule.moduleId)
      for (const error of testModule.errors()) lines.push(`FAILED ${file}: ${describeError(error)}`)
      for (const test of testModule.children.allTests('failed')) {
        lines.push(`FAILED ${file} > ${test.fullName}: ${describeError(test.result().errors?.[0])}`)
      }
    }
    for (const error of unhandledErrors) {
      const { VITEST_TEST_PATH: origin, VITEST_TEST_NAME: test } = error as {
        VITEST_TEST_PATH?: string
        VITEST_TEST_NAME?: string
      }
      const during = test === undefined ? '' : ` > ${test}`
      const where = origin === undefined ? '' : ` (in ${relative(process.cwd(), origin)}${during})`
      lines.push(`UNHANDLED${where}: ${describeError(error)}`)
    }
    if (lines.length === 0) return
    const shown = lines.slice(0, MAX_LINES)
    if (lines.length > shown.length) shown.push(`… and ${lines.length - shown.length} more`)
    process.stdout.write(`\nFailure digest:\n${shown.map((line) => `  ${line}`).join('\n')}\n`)
  }
}
