import express, { type Request, type Response, type Router } from 'express';
import { ErrorCode, pickFilter, compileFilter, isEmptyFilter, type ListenerConfig, type ListenerInfo, type ServerInfo } from '@mailwright/core';
import type { MessageStore } from '../store/message-store.js';
import type { MessageContent } from '../analysis/parse-message.js';
import type { Logger } from '../logger.js';
import { errorMiddleware, httpError } from './http-error.js';
import { booleanParam, integerParam, stringParam } from './query-params.js';
import { waitForMessage } from './wait-for-message.js';
import { readMessageDetail } from './message-detail.js';

const MAX_LIMIT = 1000;
/** A page of sessions stops at about this many bytes of records and transcripts; `nextCursor` fetches the rest. */
export const SESSION_PAGE_BYTES = 8 * 1024 * 1024;
const MAX_CURSOR_LENGTH = 64;
const DEFAULT_LIMIT = 50;
const MAX_SEQ = Number.MAX_SAFE_INTEGER;
const DEFAULT_WAIT_MS = 10_000;
const MAX_WAIT_MS = 60_000;

/** Scripts never run in served mail HTML: no script source, and a sandbox on top. */
export const MAIL_HTML_CSP =
  "default-src 'none'; style-src 'unsafe-inline' data:; img-src data: cid: http: https:; font-src data:; sandbox allow-popups allow-popups-to-escape-sandbox";

/** What the API needs from the engine, without knowing the SMTP side. */
export interface ApiContext {
  store: MessageStore;
  caPem: string;
  info(): ServerInfo;
  listeners: {
    list(): ListenerInfo[];
    create(config: ListenerConfig): Promise<ListenerInfo>;
    remove(name: string): Promise<boolean>;
  };
  issueClientCertificate(commonName: string): Promise<{ cert: string; key: string }>;
  /** The intermediate CA that issues the `incomplete-chain` certificate, PEM. */
  intermediateCaPem(): Promise<string>;
  /** Whether every listener accepts connections. */
  health(): Promise<{ ok: boolean; listeners: Record<string, boolean> }>;
  logger: Logger;
}

function filterOf(request: Request) {
  const filter = pickFilter(request.query as Record<string, unknown>);
  compileFilter(filter); // validates, 400 INVALID_FILTER on a bad one
  return filter;
}

async function messageOr404(context: ApiContext, id: string) {
  const message = await context.store.getMessage(id);
  if (!message) throw httpError(404, ErrorCode.MESSAGE_NOT_FOUND, `No message with id "${id}"`);
  return message;
}

async function rawOr404(context: ApiContext, id: string): Promise<Buffer> {
  const raw = await context.store.getRaw(id);
  if (!raw) throw httpError(404, ErrorCode.MESSAGE_NOT_FOUND, `No message with id "${id}"`);
  return raw;
}

/** `?view=decrypted`: the decrypted inner message instead of the message as received; anything else is a 400. */
function viewOf(request: Request): 'decrypted' | undefined {
  const view = stringParam(request.query, 'view');
  if (view === undefined) return undefined;
  if (view !== 'decrypted') throw httpError(400, ErrorCode.INVALID_REQUEST, `"view" must be "decrypted", not ${JSON.stringify(view)}`);
  return view;
}

function notDecrypted(id: string): Error {
  return httpError(404, ErrorCode.NOT_DECRYPTED, `Message "${id}" has no decrypted content (it is not encrypted, or no registered key decrypts it)`);
}

async function contentOr404(context: ApiContext, id: string, view?: 'decrypted'): Promise<MessageContent> {
  if (view === 'decrypted') {
    await messageOr404(context, id);
    const decrypted = await context.store.getDecrypted(id);
    if (!decrypted) throw notDecrypted(id);
    return decrypted.content;
  }
  const content = await context.store.getContent(id);
  if (!content) throw httpError(404, ErrorCode.MESSAGE_NOT_FOUND, `No message with id "${id}"`);
  return content;
}

/**
 * `Content-Disposition: attachment` for a safe file name (RFC 6266): an ASCII fallback in
 * `filename`, and the UTF-8 name in `filename*` (RFC 8187, where `'()*` must be escaped too).
 */
function contentDispositionFilename(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** The `/api/v1` router: REST over the store. */
export function createApiRouter(context: ApiContext): Router {
  const { store } = context;
  const router = express.Router();
  router.use(express.json({ limit: '64kb' }));
  router.use((_request, response, next) => {
    response.setHeader('Cache-Control', 'no-store');
    next();
  });

  router.get('/messages', async (request, response) => {
    const limit = integerParam(request.query, 'limit', { min: 1, max: MAX_LIMIT, fallback: DEFAULT_LIMIT }) as number;
    const before = integerParam(request.query, 'before', { min: 0, max: MAX_SEQ });
    const after = integerParam(request.query, 'after', { min: 0, max: MAX_SEQ });
    response.json(await store.listMessages({ filter: filterOf(request), limit, before, after }));
  });

  router.get('/messages/wait', async (request, response) => {
    const filter = filterOf(request);
    const after = integerParam(request.query, 'after', { min: 0, max: MAX_SEQ, fallback: 0 }) as number;
    const timeout = integerParam(request.query, 'timeout', { min: 0, max: MAX_WAIT_MS, fallback: DEFAULT_WAIT_MS }) as number;
    const message = await waitForMessage(store, filter, after, timeout, request);
    if (message === 'aborted') return;
    if (message === null) {
      throw httpError(408, ErrorCode.WAIT_TIMEOUT, `No message matching ${JSON.stringify(filter)} with seq > ${after} arrived within ${timeout} ms`);
    }
    response.json(message);
  });

  router.get('/messages/:id', async (request, response) => {
    const view = viewOf(request);
    const detail = await readMessageDetail(context.store, await messageOr404(context, request.params.id), view);
    if (!detail && view) throw notDecrypted(request.params.id);
    if (!detail) throw httpError(404, ErrorCode.MESSAGE_NOT_FOUND, `No message with id "${request.params.id}"`);
    response.json(detail);
  });

  router.get('/messages/:id/raw', async (request, response) => {
    const raw = await rawOr404(context, request.params.id);
    response.setHeader('Content-Type', 'message/rfc822');
    response.setHeader('X-Content-Type-Options', 'nosniff');
    if (booleanParam(request.query, 'download')) response.setHeader('Content-Disposition', contentDispositionFilename(`${request.params.id}.eml`));
    response.end(raw);
  });

  router.get('/messages/:id/html', async (request, response) => {
    const content = await contentOr404(context, request.params.id, viewOf(request));
    if (content.html === null) throw httpError(404, ErrorCode.NOT_FOUND, 'The message has no HTML body');
    response.setHeader('Content-Security-Policy', MAIL_HTML_CSP);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Content-Type', 'text/html; charset=utf-8');
    response.end(content.html);
  });

  router.get('/messages/:id/text', async (request, response) => {
    const content = await contentOr404(context, request.params.id, viewOf(request));
    if (content.text === null) throw httpError(404, ErrorCode.NOT_FOUND, 'The message has no text body');
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Content-Type', 'text/plain; charset=utf-8');
    response.end(content.text);
  });

  router.get('/messages/:id/attachments/:partId', async (request, response) => {
    const content = await contentOr404(context, request.params.id, viewOf(request));
    const attachment = content.attachments.find((candidate) => candidate.partId === request.params.partId);
    if (!attachment) throw httpError(404, ErrorCode.ATTACHMENT_NOT_FOUND, `No attachment "${request.params.partId}" in message "${request.params.id}"`);
    response.setHeader('Content-Type', attachment.contentType);
    response.setHeader('Content-Disposition', contentDispositionFilename(attachment.safeFilename));
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    response.end(attachment.content);
  });

  router.get('/messages/:id/session', async (request, response) => {
    const message = await messageOr404(context, request.params.id);
    const session = await store.getSession(message.sessionId);
    if (!session) throw httpError(404, ErrorCode.SESSION_NOT_FOUND, `The session of message "${message.id}" is no longer kept`);
    response.json(session);
  });

  router.delete('/messages/:id', async (request, response) => {
    if (!(await store.deleteMessage(request.params.id))) throw httpError(404, ErrorCode.MESSAGE_NOT_FOUND, `No message with id "${request.params.id}"`);
    response.status(204).end();
  });

  router.delete('/messages', async (request, response) => {
    const filter = filterOf(request);
    if (isEmptyFilter(filter) && !booleanParam(request.query, 'all')) {
      throw httpError(400, ErrorCode.FILTER_REQUIRED, 'Refusing to delete every message without all=true; pass a filter or all=true');
    }
    const ids = await store.deleteMessages(filter);
    response.json({ deleted: ids.length, ids });
  });

  router.get('/sessions', async (request, response) => {
    const limit = integerParam(request.query, 'limit', { min: 1, max: MAX_LIMIT, fallback: DEFAULT_LIMIT }) as number;
    const cursor = stringParam(request.query, 'cursor');
    if (cursor !== undefined && cursor.length > MAX_CURSOR_LENGTH) throw httpError(400, ErrorCode.INVALID_REQUEST, '"cursor" must be a nextCursor value');
    response.json(await store.listSessions({ limit, listener: stringParam(request.query, 'listener'), cursor, maxBytes: SESSION_PAGE_BYTES }));
  });

  router.get('/sessions/:id', async (request, response) => {
    const session = await store.getSession(request.params.id);
    if (!session) throw httpError(404, ErrorCode.SESSION_NOT_FOUND, `No session with id "${request.params.id}"`);
    response.json(session);
  });

  router.get('/tls/ca.pem', (_request, response) => {
    response.setHeader('Content-Type', 'application/x-pem-file');
    response.setHeader('Content-Disposition', 'inline; filename="mailwright-ca.pem"');
    response.end(context.caPem);
  });

  router.get('/tls/intermediate.pem', async (_request, response) => {
    const pem = await context.intermediateCaPem();
    response.setHeader('Content-Type', 'application/x-pem-file');
    response.setHeader('Content-Disposition', 'inline; filename="mailwright-intermediate-ca.pem"');
    response.end(pem);
  });

  router.get('/listeners', (_request, response) => {
    response.json({ listeners: context.listeners.list() });
  });

  router.post('/listeners', async (request, response) => {
    if (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body)) {
      throw httpError(400, ErrorCode.INVALID_REQUEST, 'Send the listener as a JSON object, e.g. {"name":"lab","certificate":"expired"}');
    }
    response.status(201).json(await context.listeners.create(request.body as ListenerConfig));
  });

  router.delete('/listeners/:name', async (request, response) => {
    if (!(await context.listeners.remove(request.params.name))) {
      throw httpError(404, ErrorCode.LISTENER_NOT_FOUND, `No listener named "${request.params.name}"`);
    }
    response.status(204).end();
  });

  router.post('/tls/client-certificates', async (request, response) => {
    const commonName = (request.body as { commonName?: unknown } | undefined)?.commonName;
    if (typeof commonName !== 'string' || commonName.length === 0 || commonName.length > 64) {
      throw httpError(400, ErrorCode.INVALID_REQUEST, '"commonName" must be a string of 1 to 64 characters');
    }
    const issued = await context.issueClientCertificate(commonName);
    response.status(201).json({ commonName, cert: issued.cert, key: issued.key, ca: context.caPem });
  });

  router.get('/info', (_request, response) => {
    response.json(context.info());
  });

  router.get('/health', async (_request: Request, response: Response) => {
    const health = await context.health();
    response.status(health.ok ? 200 : 503).json({ status: health.ok ? 'ok' : 'unavailable', listeners: health.listeners });
  });

  router.use((request) => {
    throw httpError(404, ErrorCode.NOT_FOUND, `No route ${request.method} ${request.baseUrl}${request.path}`);
  });
  router.use(errorMiddleware(context.logger));
  return router;
}
