import express, { type Request, type Router } from 'express';
import { ErrorCode, type CapturedMessage, type MessageFilter } from '@mailwright/core';
import { errorMiddleware, httpError } from '../http-error.js';
import { integerParam, stringParam } from '../query-params.js';
import { decodeBody, parseHeaderParams } from '../../analysis/protection/mime-entity.js';
import { safeFilename } from '../../analysis/safe-attachment.js';
import { mailhogMessage, mimePart } from './mailhog-message.js';
import type { CompatContext } from './compat-context.js';

const DEFAULT_LIMIT = 50;
/** MailHog's v1 list serves at most this many messages, and so do its pages here. */
const MAX_LIMIT = 1000;
const MAX_START = 1_000_000;

function notImplemented(reason: string) {
  return (): never => {
    throw httpError(501, ErrorCode.NOT_IMPLEMENTED, reason);
  };
}

/** A search `kind` mapped onto Mailwright's filter: `to` and `from` take a full address exactly and a partial one as a substring; `containing` the subject and text body. */
function searchFilter(kind: string, query: string): MessageFilter {
  // The core filter reads a leading `re:` as a regular expression; MailHog means the characters.
  const value = query.startsWith('re:') ? `re:/${query.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')}/i` : query;
  if (kind === 'to') return { to: value };
  if (kind === 'from') return { from: value };
  if (kind === 'containing') return { text: value };
  throw httpError(400, ErrorCode.INVALID_REQUEST, `"kind" must be from, to or containing, not "${kind}"`);
}

/**
 * The MailHog API (v1 and v2) as the `mailhog` client uses it, over Mailwright's store: mount it
 * at a prefix and give the client that prefix plus `/api` as its `basePath`. Every message
 * carries Mailwright's delivery record in an extra `Mailwright` field. Routes it cannot honour
 * answer `501 NOT_IMPLEMENTED` with the reason.
 */
export function createMailhogRouter(context: CompatContext): Router {
  const { store } = context;
  const router = express.Router();

  const page = (request: Request) => ({
    start: integerParam(request.query, 'start', { min: 0, max: MAX_START, fallback: 0 }) as number,
    limit: integerParam(request.query, 'limit', { min: 1, max: MAX_LIMIT, fallback: DEFAULT_LIMIT }) as number,
  });

  const render = async (messages: CapturedMessage[]) => {
    const rendered = await Promise.all(
      messages.map(async (message) => {
        const [raw, session] = await Promise.all([store.getRaw(message.id), store.getSession(message.sessionId)]);
        return raw ? mailhogMessage(message, raw, session?.clientName ?? '') : null;
      }),
    );
    return rendered.filter((message) => message !== null);
  };

  const pageOf = async (filter: MessageFilter, start: number, limit: number) => {
    const { messages, total } = await store.listMessages({ filter, limit: start + limit });
    const items = await render(messages.slice(start));
    return { total, count: items.length, start, items };
  };

  router.get('/api/v1/messages', async (_request, response) => {
    response.json(await render((await store.listMessages({ limit: MAX_LIMIT })).messages));
  });

  router.delete('/api/v1/messages', async (_request, response) => {
    await store.deleteMessages({});
    response.status(200).end();
  });

  router.get('/api/v1/messages/:id', async (request, response) => {
    const message = await store.getMessage(request.params.id);
    const [rendered] = message ? await render([message]) : [];
    if (!rendered) throw httpError(404, ErrorCode.MESSAGE_NOT_FOUND, `No message with id "${request.params.id}"`);
    response.json(rendered);
  });

  router.delete('/api/v1/messages/:id', async (request, response) => {
    if (!(await store.deleteMessage(request.params.id))) throw httpError(404, ErrorCode.MESSAGE_NOT_FOUND, `No message with id "${request.params.id}"`);
    response.status(200).end();
  });

  router.get('/api/v1/messages/:id/download', async (request, response) => {
    const raw = await store.getRaw(request.params.id);
    if (!raw) throw httpError(404, ErrorCode.MESSAGE_NOT_FOUND, `No message with id "${request.params.id}"`);
    response.attachment(`${request.params.id.replace(/[^A-Za-z0-9._-]/g, '_')}.eml`);
    response.setHeader('Content-Type', 'message/rfc822');
    response.end(raw);
  });

  router.get('/api/v1/messages/:id/mime/part/:index/download', async (request, response) => {
    const raw = await store.getRaw(request.params.id);
    if (!raw) throw httpError(404, ErrorCode.MESSAGE_NOT_FOUND, `No message with id "${request.params.id}"`);
    const part = mimePart(raw, request.params.index);
    if (!part) throw httpError(404, ErrorCode.ATTACHMENT_NOT_FOUND, `No MIME part ${request.params.index} in message "${request.params.id}"`);
    const filename = parseHeaderParams(part.headers.get('content-disposition') ?? '').params.filename ?? part.params.name ?? null;
    // After attachment(), which would set a type from the file name.
    response.attachment(safeFilename(filename, request.params.index));
    response.setHeader('Content-Type', part.contentType);
    response.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    response.end(decodeBody(part));
  });

  router.post('/api/v1/messages/:id/release', notImplemented('Mailwright never relays captured mail'));
  router.get('/api/v1/events', notImplemented("MailHog's event stream is not supported; Mailwright's stream is the WebSocket at /api/v1/stream"));

  router.get('/api/v2/messages', async (request, response) => {
    const { start, limit } = page(request);
    response.json(await pageOf({}, start, limit));
  });

  router.get('/api/v2/search', async (request, response) => {
    const kind = stringParam(request.query, 'kind') ?? 'containing';
    const query = stringParam(request.query, 'query');
    if (query === undefined) throw httpError(400, ErrorCode.INVALID_FILTER, 'Give a search in "query"');
    const { start, limit } = page(request);
    response.json(await pageOf(searchFilter(kind, query), start, limit));
  });

  router.get('/api/v2/jim', notImplemented("MailHog's Jim is not supported; Mailwright's fault rules (/api/v1/faults) inject failures"));
  router.get('/api/v2/outgoing-smtp', (_request, response) => {
    response.json({});
  });
  router.get('/api/v2/websocket', notImplemented("MailHog's WebSocket is not supported; Mailwright's stream is the WebSocket at /api/v1/stream"));

  router.use((request) => {
    throw httpError(404, ErrorCode.NOT_FOUND, `No MailHog route ${request.method} ${request.baseUrl}${request.path}`);
  });
  router.use(errorMiddleware(context.logger));
  return router;
}
