import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { RequestHandler } from 'express';
import { ErrorCode } from '@mailwright/core';
import { httpError } from './http-error.js';

/** Who may use the API: an optional token, the host names it answers to and the browser origins allowed. */
export interface AccessPolicy {
  /** When set, required as `Authorization: Bearer <token>` or `?token=<token>`. */
  apiToken: string | undefined;
  /** Browser origins allowed besides the server's own; `*` allows any. */
  allowedOrigins: readonly string[];
  /**
   * Host names the server answers to besides loopback names and IP addresses (lower case):
   * exact names, `.example.test` for a domain and its subdomains, `*` for any.
   */
  allowedHosts: readonly string[];
}

/** Methods a browser may send cross-origin without changing anything. */
const SAFE_METHODS = new Set(['GET', 'HEAD']);
const CORS_METHODS = 'GET, HEAD, POST, PUT, DELETE, OPTIONS';
const CORS_HEADERS = 'Authorization, Content-Type';
const CORS_MAX_AGE_S = '600';

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

/** The name part of a `Host` header or URL host: no port, no brackets, lower case, no trailing dot. */
function hostNameOf(host: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(host);
  const name = bracketed ? (bracketed[1] ?? '') : host.replace(/:\d*$/, '');
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * Whether the server answers to this host name. A DNS rebinding page reaches the server by
 * a name of its own (its origin); so loopback names (`localhost`, `*.localhost`, which
 * browsers resolve to loopback themselves) and IP addresses (no DNS involved) are always
 * fine, other names only when configured.
 */
export function isHostNameAllowed(name: string, policy: AccessPolicy): boolean {
  if (name === '') return false;
  if (name === 'localhost' || name.endsWith('.localhost') || isIP(name) !== 0) return true;
  return policy.allowedHosts.some((entry) => entry === '*' || entry === name || (entry.startsWith('.') && (name.endsWith(entry) || name === entry.slice(1))));
}

/**
 * Whether a request may be answered, by its `Host` header. Not checked when an API token
 * is configured: a rebinding page cannot know it. A request without `Host` is not from a
 * browser (browsers always send one) and passes.
 */
export function isHostAllowed(request: IncomingMessage, policy: AccessPolicy): boolean {
  if (policy.apiToken !== undefined) return true;
  const host = request.headers.host;
  if (host === undefined) return true;
  return isHostNameAllowed(hostNameOf(host), policy);
}

/** Whether an Origin is the server's own: the same host and port as the request, by a name the server answers to. */
function isSameOrigin(origin: string, request: IncomingMessage, policy: AccessPolicy): boolean {
  if (!URL.canParse(origin)) return false;
  const url = new URL(origin);
  const host = request.headers.host;
  if (host === undefined || url.host !== host.toLowerCase()) return false;
  return policy.apiToken !== undefined || isHostNameAllowed(hostNameOf(url.host), policy);
}

/** Whether an Origin is listed by `allowedOrigins` (or `*` is). */
function isListedOrigin(origin: string, policy: AccessPolicy): boolean {
  return policy.allowedOrigins.includes('*') || policy.allowedOrigins.includes(origin);
}

/**
 * Whether a browser Origin may use the API: no Origin (not a browser), the server's own
 * origin (same host and port as the request, by an allowed host name), or a listed one.
 */
export function isOriginAllowed(request: IncomingMessage, policy: AccessPolicy): boolean {
  const origin = request.headers.origin;
  if (origin === undefined || origin === '') return true;
  return isListedOrigin(origin, policy) || isSameOrigin(origin, request, policy);
}

/** Express middleware answering 403 `HOST_NOT_ALLOWED` to a `Host` the server does not answer to. */
export function requireAllowedHost(policy: AccessPolicy): RequestHandler {
  return (request, _response, next) => {
    if (isHostAllowed(request, policy)) return next();
    next(
      httpError(
        403,
        ErrorCode.HOST_NOT_ALLOWED,
        `This server does not answer to the host name "${hostNameOf(request.headers.host ?? '')}"; add it with --allowed-host, or set an API token`,
      ),
    );
  };
}

/**
 * CORS for the REST API: listed origins get their `Access-Control-Allow-*` headers and
 * preflights answered; other cross-origin requests get no CORS headers, and 403
 * `FORBIDDEN_ORIGIN` for preflights and anything that could change state.
 */
export function apiCors(policy: AccessPolicy): RequestHandler {
  return (request, response, next) => {
    const origin = request.headers.origin;
    response.vary('Origin');
    if (origin === undefined || origin === '' || isSameOrigin(origin, request, policy)) return next();
    if (isListedOrigin(origin, policy)) {
      response.setHeader('Access-Control-Allow-Origin', origin);
      if (request.method !== 'OPTIONS') return next();
      response.setHeader('Access-Control-Allow-Methods', CORS_METHODS);
      response.setHeader('Access-Control-Allow-Headers', CORS_HEADERS);
      response.setHeader('Access-Control-Max-Age', CORS_MAX_AGE_S);
      response.status(204).end();
      return;
    }
    if (SAFE_METHODS.has(request.method)) return next();
    next(httpError(403, ErrorCode.FORBIDDEN_ORIGIN, `Origin ${origin} is not allowed; add it with --allowed-origin`));
  };
}

/** Headers on every response: no MIME sniffing, no Referer to the links in captured mail. */
export function securityHeaders(): RequestHandler {
  return (_request, response, next) => {
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Referrer-Policy', 'no-referrer');
    next();
  };
}

/** Headers on every API response, errors included: message data is never cached. */
export function apiHeaders(): RequestHandler {
  return (_request, response, next) => {
    response.setHeader('Cache-Control', 'no-store');
    next();
  };
}

/** Express middleware enforcing the token on REST; `/health` stays open for health checks. */
export function requireToken(policy: AccessPolicy): RequestHandler {
  return (request, _response, next) => {
    if (request.path === '/health' || hasValidToken(request, policy)) return next();
    next(httpError(401, ErrorCode.UNAUTHORIZED, 'A valid API token is required (Authorization: Bearer <token>)'));
  };
}

/** The host names a server answers to besides loopback names and IP addresses. */
export function allowedHostNames(names: readonly string[]): string[] {
  // IP addresses are always answered to; a bare IPv6 address would not survive hostNameOf.
  const named = names.map((name) => name.trim()).filter((name) => isIP(name.replace(/^\[|\]$/g, '')) === 0);
  return [...new Set(named.map((name) => (name === '*' ? name : hostNameOf(name))).filter((name) => name !== ''))];
}
