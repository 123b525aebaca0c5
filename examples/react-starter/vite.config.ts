import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// `npm start` has the relay serve dist/ (its --static-dir): assets use relative paths.
export default defineConfig({
  plugins: [react()],
  base: './',
  build: { target: 'es2022', chunkSizeWarningLimit: 1024 },
})
