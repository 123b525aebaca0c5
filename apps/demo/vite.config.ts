import { defineConfig } from 'vite'

// The relay serves dist/ (see apps/relay --static-dir); assets use relative paths.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1024 },
})
