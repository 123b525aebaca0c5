import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// @weft/react's tests again, on React 18: `react`, `react-dom` and the testing library resolve to
// this package's copies (installed against React 18), for the hooks' code and the tests alike.
const own = (name: string): string =>
  fileURLToPath(new URL(`./node_modules/${name}`, import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      { find: /^react$/, replacement: own('react') },
      { find: /^react\/(.*)$/, replacement: `${own('react')}/$1` },
      { find: /^react-dom$/, replacement: own('react-dom') },
      { find: /^react-dom\/(.*)$/, replacement: `${own('react-dom')}/$1` },
      { find: /^@testing-library\/react$/, replacement: own('@testing-library/react') },
    ],
  },
  test: {
    provide: { reactMajor: 18 },
    dir: fileURLToPath(new URL('../test', import.meta.url)),
    // The Chromium test builds its page with React 19 whatever runs it: once is enough.
    exclude: ['**/node_modules/**', '**/*.browser.test.ts'],
  },
})
