/** promtool: Prometheus's rule checker and rule unit-test runner, for the ops/prometheus tests. */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { systemTool } from './system-tool.js'

/** The promtool executable: `PROMTOOL_PATH`, one on the PATH, or Debian's `prometheus` package's. */
export const promtoolPath = (): string =>
  systemTool({
    name: 'promtool',
    envVar: 'PROMTOOL_PATH',
    aptPackage: 'prometheus',
    find: () => {
      for (const dir of (process.env['PATH'] ?? '').split(':')) {
        if (dir !== '' && existsSync(join(dir, 'promtool'))) return join(dir, 'promtool')
      }
      return existsSync('/usr/bin/promtool') ? '/usr/bin/promtool' : undefined
    },
  })
