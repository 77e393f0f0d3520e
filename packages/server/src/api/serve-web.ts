import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Router } from 'express';

const HASHED_ASSET = /[.-][A-Za-z0-9_-]{8,}\.(?:js|css|woff2?|svg|png|ico)$/;

/**
 * Serves the built inbox viewer: hashed assets cached for a year, everything else
 * (index.html, the SPA fallback) revalidated on every load.
 */
export function serveWeb(webRoot: string): Router {
  const router = express.Router();
  const index = join(webRoot, 'index.html');
  router.use(
    express.static(webRoot, {
      index: false,
      setHeaders(response, path) {
        response.setHeader('X-Content-Type-Options', 'nosniff');
        response.setHeader('Cache-Control', HASHED_ASSET.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );
  router.get(/^(?!\/api\/).*/, (request, response, next) => {
    if (!existsSync(index) || /\.[a-z0-9]+$/i.test(request.path)) return next();
    response.setHeader('Cache-Control', 'no-cache');
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('X-Frame-Options', 'DENY');
    response.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: http: https:; frame-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    response.sendFile(index);
  });
  return router;
}
