import type { Server } from 'node:http';
import type { Express } from 'express';
import { apiCors, apiHeaders, requireToken, type AccessPolicy } from '../access-control.js';
import type { CompatContext } from './compat-context.js';
import { createMailpitApi } from './mailpit-api.js';
import { createMailhogRouter } from './mailhog-api.js';
import { attachMailpitEvents } from './mailpit-events.js';

/** Where the Mailpit API is served on the HTTP port: a Mailpit client's base URL is `${http}${MAILPIT_PATH}`. */
export const MAILPIT_PATH = '/compat/mailpit';
/** Where the MailHog API is served: `${http}${MAILHOG_PATH}/api/v1/…` and `…/api/v2/…`. */
export const MAILHOG_PATH = '/compat/mailhog';

/** The base URLs `GET /api/v1/info` lists under `compatibility`. */
export function compatibilityUrls(httpUrl: string): { mailpit: string; mailhog: string } {
  return { mailpit: `${httpUrl}${MAILPIT_PATH}`, mailhog: `${httpUrl}${MAILHOG_PATH}` };
}

/** The mounted compatibility APIs. */
export interface MountedCompatibility {
  /** Whether a WebSocket upgrade at this path is theirs (Mailpit's `/api/events`). */
  handlesUpgrade(path: string): boolean;
  close(): Promise<void>;
}

/**
 * Mounts the Mailpit and MailHog APIs on the app, and Mailpit's events WebSocket on the
 * server, behind the same access policy as `/api/v1` (token, CORS; the host check is the app's
 * own for HTTP, and the events endpoint's own for its upgrade).
 */
export function mountCompatibility(app: Express, server: Server, context: CompatContext, policy: AccessPolicy): MountedCompatibility {
  const mailpit = createMailpitApi(context);
  for (const [prefix, router] of [
    [MAILPIT_PATH, mailpit.router],
    [MAILHOG_PATH, createMailhogRouter(context)],
  ] as const) {
    app.use(prefix, apiHeaders(), apiCors(policy), requireToken(policy), router);
  }
  const events = attachMailpitEvents(
    server,
    `${MAILPIT_PATH}/api/events`,
    { store: context.store, version: context.info().version, listItem: mailpit.listItem, stats: mailpit.stats, onUpdate: mailpit.onUpdate },
    policy,
    context.logger,
  );
  return {
    handlesUpgrade: (path) => events.handles(path),
    async close() {
      events.close();
      mailpit.close();
    },
  };
}
