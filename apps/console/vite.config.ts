// Vite build of the ops console into dist/apps/console, which the gateway serves at `/`.
// `npx vite --config apps/console/vite.config.ts` runs a dev server that proxies /v1 to a
// gateway (TRESOR_CONSOLE_API, default http://127.0.0.1:8420).
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../../dist/apps/console', import.meta.url)),
    emptyOutDir: true,
    // The CSP allows no inline script: keep every script in a file (the polyfill would be bundled anyway).
    modulePreload: { polyfill: false },
  },
  server: { proxy: { '/v1': process.env.TRESOR_CONSOLE_API ?? 'http://127.0.0.1:8420' } },
});
