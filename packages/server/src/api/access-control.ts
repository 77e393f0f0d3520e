import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { ErrorCode } from '@mailwright/core';
import { httpError } from './http-error.js';

/** Who may use the API: an optional token, and the browser origins allowed. */
export interface AccessPolicy {
  /** When set, required as `Authorization: Bearer <token>` or `?token=<token>`. */
  apiToken: string | undefined;
  /** Browser origins allowed besides the server's own; `*` allows any. */
  allowedOrigins: readonly string[];
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token a request carries, from the Authorization header or the `token` query parameter. */
function tokenOf(request: IncomingMessage): string | null {
  const header = request.headers.authorization;
  if (typeof header === 'string' && /^Bearer\s+/i.test(header)) return header.replace(/^Bearer\s+/i, '').trim();
  const query = new URL(request.url ?? '/', 'http://localhost').searchParams.get('token');
  return query;
}

/** Whether a request carries the API token (always true when none is configured). */
export function hasValidToken(request: IncomingMessage, policy: AccessPolicy): boolean {
  if (policy.apiToken === undefined) return true;
  const token = tokenOf(request);
  return token !== null && sameSecret(token, policy.apiToken);
}

/**
 * Whether a browser Origin may connect: no Origin (not a browser), the server's own
 * origin (same host and port as the Host header), or a listed one.
 */
export function isOriginAllowed(request: IncomingMessage, policy: AccessPolicy): boolean {
  const origin = request.headers.origin;
  if (origin === undefined || origin === '') return true;
  if (policy.allowedOrigins.includes('*') || policy.allowedOrigins.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/** Express middleware enforcing the token on REST; `/health` stays open for health checks. */
export function requireToken(policy: AccessPolicy): RequestHandler {
  return (request, _response, next) => {
    if (request.path === '/health' || hasValidToken(request, policy)) return next();
    next(httpError(401, ErrorCode.UNAUTHORIZED, 'A valid API token is required (Authorization: Bearer <token>)'));
  };
}
