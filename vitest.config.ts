import { defineConfig } from 'vitest/config'

// One Vitest project per package and app (and the bench suite's smoke test); each runs its own `src/**/*.test.ts` and `test/**/*.test.ts`.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'bench'],
  },
})
