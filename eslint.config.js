// ESLint for Weft: a few type-aware correctness rules (promises, exhaustive switches); formatting is prettier's.
import { defineConfig } from 'eslint/config'
import tseslint from 'typescript-eslint'

export default defineConfig(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/.scratch/**',
      'apps/demo/dist/**',
      // Compiled against the packed packages by its own test, outside the workspace's tsconfig.
      'apps/relay/test/fixtures/installed-app/**',
      // Apps of their own (their own package.json and tsconfig), built against packed packages.
      'examples/**',
    ],
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        // Every linted file is in the root tsconfig.json, so the service builds one program;
        // the demo's Vite config is the only file outside it.
        projectService: {
          allowDefaultProject: ['apps/demo/vite.config.ts'],
          defaultProject: 'tsconfig.json',
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        {
          // A default branch is a deliberate catch-all for unions; enums and unions without one
          // must name every member.
          considerDefaultExhaustiveForUnions: true,
          requireDefaultForNonUnion: false,
        },
      ],
    },
  },
)
