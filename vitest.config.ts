import { defineConfig } from 'vitest/config'
import FailureDigest from './scripts/failure-digest.js'

// One Vitest project per package and app (and the bench suite's smoke test); each runs its own
// `src/**/*.test.ts` and `test/**/*.test.ts`. packages/react/react-18 runs @weft/react's tests
// again on React 18. A failed run ends with a digest of what failed (scripts/failure-digest.ts).
export default defineConfig({
  test: {
    projects: ['packages/*', 'packages/react/react-18', 'apps/*', 'bench'],
    reporters: ['default', new FailureDigest()],
  },
})
