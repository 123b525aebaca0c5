/**
 * `pnpm starter`: runs examples/react-starter on this checkout's packages. It packs them as they
 * are published (`pack-packages`), installs the starter with those tarballs in place of the npm
 * versions (its package.json unchanged), and starts its relay and Vite dev server (`npm run dev`).
 */
import { execFileSync, spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { pnpmCommand, ROOT } from './workspace.js'

const STARTER = join(ROOT, 'examples', 'react-starter')
const packs = join(STARTER, '.weft-packs')

const [command, ...prefix] = pnpmCommand()
execFileSync(command, [...prefix, 'pack-packages', packs], { cwd: ROOT, stdio: 'inherit' })
const tarballs = readdirSync(packs)
  .filter((file) => file.endsWith('.tgz'))
  .map((file) => join(packs, file))
execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', ...tarballs], {
  cwd: STARTER,
  stdio: 'inherit',
})
const dev = spawn('npm', ['run', 'dev'], { cwd: STARTER, stdio: 'inherit' })
dev.on('exit', (code) => process.exit(code ?? 0))
