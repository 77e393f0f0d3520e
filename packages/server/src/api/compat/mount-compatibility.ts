import type { Express } from 'express';
import { apiCors, apiHeaders, requireToken, type AccessPolicy } from '../access-control.js';
import type { CompatContext } from './compat-context.js';
import { createMailpitRouter } from './mailpit-api.js';
import { createMailhogRouter } from './mailhog-api.js';

/** Where the Mailpit API is served on the HTTP port: a Mailpit client's base URL is `${http}${MAILPIT_PATH}`. */
export const MAILPIT_PATH = '/compat/mailpit';
/** Where the MailHog API is served: `${http}${MAILHOG_PATH}/api/v1/…` and `…/api/v2/…`. */
export const MAILHOG_PATH = '/compat/mailhog';

/** The base URLs `GET /api/v1/info` lists under `compatibility`. */
export function compatibilityUrls(httpUrl: string): { mailpit: string; mailhog: string } {
  return { mailpit: `${httpUrl}${MAILPIT_PATH}`, mailhog: `${httpUrl}${MAILHOG_PATH}` };
}

/**
 * Mounts the Mailpit and MailHog APIs on the app, behind the same access policy as `/api/v1`
 * (token, CORS; the host check is the app's own). Returns what stops them following the store.
 */
export function mountCompatibility(app: Express, context: CompatContext, policy: AccessPolicy): () => Promise<void> {
  const mailpit = createMailpitRouter(context);
  for (const [prefix, router] of [
    [MAILPIT_PATH, mailpit],
    [MAILHOG_PATH, createMailhogRouter(context)],
  ] as const) {
    app.use(prefix, apiHeaders(), apiCors(policy), requireToken(policy), router);
  }
  return async () => mailpit.close();
}
