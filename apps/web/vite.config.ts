import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/** The Mailwright server the dev server talks to. */
const target = process.env.MAILWRIGHT_URL ?? 'http://127.0.0.1:8025';

/** The inbox viewer is served by the CLI at `/`; the dev server proxies the API to a running Mailwright. */
export default defineConfig({
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No source maps: the viewer ships offline with a size budget.
    sourcemap: false,
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      // The stream and REST accept browsers from the server's own origin (or listed ones) only;
      // through this proxy the page is on the dev server's origin, so present the server's.
      '/api/v1/stream': { target, ws: true, changeOrigin: true, headers: { origin: target } },
      '/api': { target, changeOrigin: true, headers: { origin: target } },
    },
  },
});
