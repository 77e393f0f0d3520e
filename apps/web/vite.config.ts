import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/** The inbox viewer is served by the CLI at `/`; the dev server proxies the API to a running Mailwright. */
export default defineConfig({
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Source maps are not shipped: the viewer is served offline and the bundle size is budgeted.
    sourcemap: false,
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      '/api/v1/stream': { target: process.env.MAILWRIGHT_URL ?? 'http://127.0.0.1:8025', ws: true, changeOrigin: true },
      '/api': { target: process.env.MAILWRIGHT_URL ?? 'http://127.0.0.1:8025', changeOrigin: true },
    },
  },
});
