import { createHash } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { ErrorCode, type Address, type CapturedMessage } from '@mailwright/core';
import type { ParsedAttachment } from '../../analysis/parse-message.js';
import { headersOf } from '../../analysis/headers-of.js';
import { errorMiddleware, httpError } from '../http-error.js';
import { integerParam, stringParam } from '../query-params.js';
import { MAIL_HTML_CSP } from '../create-api.js';
import { MailpitMarks, cleanTag, cleanTags } from './mailpit-marks.js';
import { bccOf, isInline, parseMailpitSearch, type SearchTerm } from './mailpit-search.js';
import { idsMatching, scanMessages } from './scan-messages.js';
import { deliveryRecord, type CompatContext } from './compat-context.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
const MAX_START = 1_000_000;
const MAX_IDS = 10_000;
const STARTED_AT = Date.now();

/** The Mailpit API's router, and what its events need. */
export interface MailpitApi {
  router: Router;
  /** A message as Mailpit lists it. */
  listItem(message: CapturedMessage): unknown;
  /** Messages in the mailbox, and those not read. */
  stats(): Promise<{ total: number; unread: number }>;
  /** Sets who hears of changed read flags and tags (Mailpit's `update` event). */
  onUpdate(listener: (update: { ID: string; Read: boolean } | { ID: string; Tags: string[] }) => void): void;
  /** Stops following the store. */
  close(): void;
}

/** 501 with the reason, for what Mailwright cannot do the Mailpit way. */
function notImplemented(reason: string) {
  return (): never => {
    throw httpError(501, ErrorCode.NOT_IMPLEMENTED, reason);
  };
}

function mailpitAddress(address: Address): { Name: string; Address: string } {
  return { Name: address.name, Address: address.address };
}

function withoutBrackets(value: string | null): string {
  return (value ?? '').replace(/^<|>$/g, '');
}

/** Go's canonical header name, as Mailpit reports header names: `content-type` → `Content-Type`. */
function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_match, dash: string, letter: string) => dash + letter.toUpperCase());
}

function checksums(content: Buffer) {
  const digest = (algorithm: string): string => createHash(algorithm).update(content).digest('hex');
  return { MD5: digest('md5'), SHA1: digest('sha1'), SHA256: digest('sha256') };
}

function mailpitAttachment(attachment: ParsedAttachment) {
  return {
    PartID: attachment.partId,
    // The safe name (no path, no control characters): what a client may save the file under.
    FileName: attachment.safeFilename,
    ContentType: attachment.contentType,
    ContentID: withoutBrackets(attachment.contentId),
    Size: attachment.size,
    Checksums: checksums(attachment.content),
  };
}

/** The List-Unsubscribe header the way Mailpit summarizes it: its links (one mailto: and one http(s): at most). */
function listUnsubscribe(headers: Record<string, string[]>) {
  const header = headers['list-unsubscribe']?.[0] ?? '';
  const links = [...header.matchAll(/<([^>]*)>/g)].map((match) => (match[1] ?? '').trim());
  const mailto = links.find((link) => /^mailto:/i.test(link));
  const web = links.find((link) => /^https?:/i.test(link));
  const errors = header !== '' && links.length === 0 ? 'No valid links found' : '';
  return {
    Header: header,
    Links: [mailto, web].filter((link): link is string => link !== undefined),
    Errors: errors,
    HeaderPost: headers['list-unsubscribe-post']?.[0] ?? '',
  };
}

/** A JSON body of the shape a Mailpit client sends, or 400. */
function bodyObject(request: Request): Record<string, unknown> {
  const body: unknown = request.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw httpError(400, ErrorCode.INVALID_REQUEST, 'Send a JSON object');
  return body as Record<string, unknown>;
}

function stringArray(body: Record<string, unknown>, field: string, max = MAX_IDS): string[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > max || !value.every((item) => typeof item === 'string')) {
    throw httpError(400, ErrorCode.INVALID_REQUEST, `"${field}" must be a list of at most ${max} strings`);
  }
  return value as string[];
}

function sendOk(response: Response): void {
  response.type('text/plain; charset=utf-8').send('ok');
}

/**
 * The Mailpit API (https://mailpit.axllent.org/docs/api-v1/) as the `mailpit-api` client uses
 * it, over Mailwright's store: mount it at a prefix and give that prefix to a Mailpit client as
 * its base URL. Read flags and Mailpit tags live in this layer ({@link MailpitMarks}); Mailpit's
 * quirks (an empty delete deletes everything) apply only here. Every message carries
 * Mailwright's delivery record in an extra `Mailwright` field. Routes it cannot honour answer
 * `501 NOT_IMPLEMENTED` with the reason.
 */
export function createMailpitApi(context: CompatContext): MailpitApi {
  const { store } = context;
  const marks = new MailpitMarks(store);
  const router = express.Router();
  router.use(express.json({ limit: '1mb' }));

  const listItem = (message: CapturedMessage) => ({
    ID: message.id,
    MessageID: withoutBrackets(message.messageId),
    Read: marks.isRead(message.id),
    From: message.from ? mailpitAddress(message.from) : null,
    To: message.to.map(mailpitAddress),
    Cc: message.cc.map(mailpitAddress),
    Bcc: bccOf(message).map(mailpitAddress),
    ReplyTo: message.replyTo.map(mailpitAddress),
    Subject: message.subject,
    Created: message.receivedAt,
    Username: message.auth?.username ?? '',
    Tags: [...marks.tagsOf(message)],
    Size: message.size,
    Attachments: message.attachments.filter((attachment) => !isInline(attachment)).length,
    Snippet: message.snippet,
    Mailwright: deliveryRecord(message),
  });

  /** Totals over the whole mailbox: messages, unread ones, and the tags in use with their counts. */
  const mailboxStats = async () => {
    let total = 0;
    let unread = 0;
    const tagCounts = new Map<string, number>();
    for await (const message of scanMessages(store)) {
      total += 1;
      if (!marks.isRead(message.id)) unread += 1;
      for (const tag of marks.tagsOf(message)) tagCounts.set(tag, (tagCounts.get(tag) ?? 0) + 1);
    }
    return { total, unread, tagCounts, tags: cleanTags([...tagCounts.keys()]) };
  };

  /** Every message a parsed search matches, newest first. */
  const search = async (terms: SearchTerm[]): Promise<CapturedMessage[]> => {
    const bodyMatches = await Promise.all(terms.map((term) => (term.body ? idsMatching(store, term.body) : null)));
    const found: CapturedMessage[] = [];
    for await (const message of scanMessages(store)) {
      const matches = terms.every((term, index) => (term.test(message, marks) || (bodyMatches[index]?.has(message.id) ?? false)) !== term.negated);
      if (matches) found.push(message);
    }
    return found;
  };

  const searchOf = (request: Request, query: string | undefined): SearchTerm[] => {
    if (query === undefined || query.trim() === '')
      throw httpError(400, ErrorCode.INVALID_FILTER, 'Give a search in "query", e.g. query=to:someone@example.test');
    return parseMailpitSearch(query, stringParam(request.query, 'tz'));
  };

  const page = (request: Request) => ({
    start: integerParam(request.query, 'start', { min: 0, max: MAX_START, fallback: 0 }) as number,
    limit: integerParam(request.query, 'limit', { min: 0, max: MAX_LIMIT, fallback: DEFAULT_LIMIT }) as number,
  });

  /** A message by id, or the newest for `latest`; 404 when there is none. */
  const messageOr404 = async (id: string): Promise<CapturedMessage> => {
    const message = id === 'latest' ? ((await store.listMessages({ limit: 1 })).messages[0] ?? null) : await store.getMessage(id);
    if (!message) throw httpError(404, ErrorCode.MESSAGE_NOT_FOUND, id === 'latest' ? 'There are no messages' : `No message with id "${id}"`);
    return message;
  };

  const contentOr404 = async (message: CapturedMessage) => {
    const content = await store.getContent(message.id);
    if (!content) throw httpError(404, ErrorCode.MESSAGE_NOT_FOUND, `No message with id "${message.id}"`);
    return content;
  };

  /** The messages of a list of ids; 404 naming those that do not exist (and nothing is changed). */
  const messagesOr404 = async (ids: string[]): Promise<CapturedMessage[]> => {
    const messages = await Promise.all(ids.map((id) => store.getMessage(id)));
    const missing = ids.filter((_id, index) => messages[index] === null);
    if (missing.length > 0) {
      const named = missing.slice(0, 10).map((id) => JSON.stringify(id));
      throw httpError(
        404,
        ErrorCode.MESSAGE_NOT_FOUND,
        `No message with id ${named.join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`,
      );
    }
    return messages as CapturedMessage[];
  };

  router.get('/api/v1/info', async (_request, response) => {
    const stats = await mailboxStats();
    const memory = process.memoryUsage();
    const info = context.info();
    response.json({
      Version: info.version,
      LatestVersion: '',
      Database: '',
      DatabaseSize: 0,
      Messages: stats.total,
      Unread: stats.unread,
      Tags: Object.fromEntries([...stats.tagCounts].sort(([a], [b]) => a.localeCompare(b))),
      RuntimeStats: {
        Uptime: Math.floor((Date.now() - STARTED_AT) / 1000),
        Memory: memory.rss,
        MessagesDeleted: 0,
        SMTPAccepted: 0,
        SMTPAcceptedSize: 0,
        SMTPRejected: 0,
        SMTPIgnored: 0,
      },
      Mailwright: info,
    });
  });

  router.get('/api/v1/webui', (_request, response) => {
    response.json({
      Label: 'Mailwright',
      MessageRelay: {
        Enabled: false,
        SMTPServer: '',
        ReturnPath: '',
        AllowedRecipients: '',
        BlockedRecipients: '',
        OverrideFrom: '',
        PreserveMessageIDs: false,
      },
      SpamAssassin: false,
      ChaosEnabled: false,
      DuplicatesIgnored: false,
      HideDeleteAllButton: false,
    });
  });

  const listResponse = async (matches: CapturedMessage[] | null, start: number, limit: number) => {
    const stats = await mailboxStats();
    let pageMessages: CapturedMessage[];
    let count: number;
    let unreadMatches: number;
    if (matches === null) {
      pageMessages = limit === 0 ? [] : (await store.listMessages({ limit: Math.min(start + limit, MAX_START + MAX_LIMIT) })).messages.slice(start);
      count = stats.total;
      unreadMatches = stats.unread;
    } else {
      pageMessages = matches.slice(start, start + limit);
      count = matches.length;
      unreadMatches = matches.filter((message) => !marks.isRead(message.id)).length;
    }
    return {
      total: stats.total,
      unread: stats.unread,
      count: pageMessages.length,
      messages_count: count,
      messages_unread: unreadMatches,
      start,
      tags: stats.tags,
      messages: pageMessages.map(listItem),
    };
  };

  router.get('/api/v1/messages', async (request, response) => {
    const { start, limit } = page(request);
    response.json(await listResponse(null, start, limit));
  });

  router.put('/api/v1/messages', async (request, response) => {
    const body = bodyObject(request);
    const ids = stringArray(body, 'IDs');
    const read = body.Read ?? false;
    if (typeof read !== 'boolean') throw httpError(400, ErrorCode.INVALID_REQUEST, '"Read" must be true or false');
    const searchText = body.Search;
    if (searchText !== undefined && typeof searchText !== 'string') throw httpError(400, ErrorCode.INVALID_REQUEST, '"Search" must be a string');
    let targets: CapturedMessage[];
    if (ids !== undefined && ids.length > 0) targets = await messagesOr404(ids);
    else if (searchText !== undefined && searchText.trim() !== '') targets = await search(searchOf(request, searchText));
    else {
      targets = [];
      for await (const message of scanMessages(store)) targets.push(message);
    }
    for (const message of targets) marks.setRead(message.id, read);
    sendOk(response);
  });

  router.delete('/api/v1/messages', async (request, response) => {
    const ids = stringArray(bodyObject(request), 'IDs');
    // Mailpit's rule: without IDs, every message is deleted.
    if (ids === undefined || ids.length === 0) await store.deleteMessages({});
    else {
      await messagesOr404(ids);
      for (const id of ids) await store.deleteMessage(id);
    }
    sendOk(response);
  });

  router.get('/api/v1/search', async (request, response) => {
    const terms = searchOf(request, stringParam(request.query, 'query'));
    const { start, limit } = page(request);
    response.json(await listResponse(await search(terms), start, limit));
  });

  router.delete('/api/v1/search', async (request, response) => {
    const matches = await search(searchOf(request, stringParam(request.query, 'query')));
    for (const message of matches) await store.deleteMessage(message.id);
    sendOk(response);
  });

  router.get('/api/v1/message/:id', async (request, response) => {
    const message = await messageOr404(request.params.id);
    const [content, authentication, session] = await Promise.all([
      contentOr404(message),
      message.authentication ? store.getAuthentication(message.id) : null,
      store.getSession(message.sessionId),
    ]);
    // Reading a message marks it read, as in Mailpit.
    marks.setRead(message.id, true);
    const attachments = content.attachments;
    response.json({
      ID: message.id,
      MessageID: withoutBrackets(message.messageId),
      From: message.from ? mailpitAddress(message.from) : null,
      To: message.to.map(mailpitAddress),
      Cc: message.cc.map(mailpitAddress),
      Bcc: bccOf(message).map(mailpitAddress),
      ReplyTo: message.replyTo.map(mailpitAddress),
      ReturnPath: withoutBrackets(content.headers['return-path']?.[0] ?? message.envelope.mailFrom),
      Subject: message.subject,
      ListUnsubscribe: listUnsubscribe(content.headers),
      Date: message.date ?? message.receivedAt,
      Tags: [...marks.tagsOf(message)],
      Username: message.auth?.username ?? '',
      Text: content.text ?? '',
      HTML: content.html ?? '',
      Size: message.size,
      Inline: attachments.filter(isInline).map(mailpitAttachment),
      Attachments: attachments.filter((attachment) => !isInline(attachment)).map(mailpitAttachment),
      Mailwright: { ...deliveryRecord(message), authentication: message.authentication ? (authentication ?? message.authentication) : null, session },
    });
  });

  router.get('/api/v1/message/:id/headers', async (request, response) => {
    const message = await messageOr404(request.params.id);
    const raw = await store.getRaw(message.id);
    if (!raw) throw httpError(404, ErrorCode.MESSAGE_NOT_FOUND, `No message with id "${message.id}"`);
    const { headers } = headersOf(raw);
    const canonical: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(headers)) (canonical[canonicalHeaderName(name)] ??= []).push(...values);
    response.json(Object.fromEntries(Object.entries(canonical).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  });

  router.get('/api/v1/message/:id/raw', async (request, response) => {
    const message = await messageOr404(request.params.id);
    const raw = await store.getRaw(message.id);
    if (!raw) throw httpError(404, ErrorCode.MESSAGE_NOT_FOUND, `No message with id "${message.id}"`);
    response.setHeader('Content-Type', 'text/plain; charset=utf-8');
    response.end(raw);
  });

  router.get('/api/v1/message/:id/part/:partId', async (request, response) => {
    const message = await messageOr404(request.params.id);
    const content = await contentOr404(message);
    const attachment = content.attachments.find((candidate) => candidate.partId === request.params.partId);
    if (!attachment) throw httpError(404, ErrorCode.ATTACHMENT_NOT_FOUND, `No part "${request.params.partId}" in message "${message.id}"`);
    // After attachment(), which would set a type from the file name.
    response.attachment(attachment.safeFilename);
    response.setHeader('Content-Type', attachment.contentType);
    response.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    response.end(attachment.content);
  });

  router.get(
    '/api/v1/message/:id/part/:partId/thumb',
    notImplemented('Mailwright does not make thumbnails; fetch the part itself from /api/v1/message/{id}/part/{partId}'),
  );
  router.get('/api/v1/message/:id/html-check', notImplemented('Mailwright has no HTML compatibility check'));
  router.get(
    '/api/v1/message/:id/link-check',
    notImplemented('Mailwright does not contact the links of captured mail; its own /api/v1/messages/{id} lists them under "links"'),
  );
  router.get('/api/v1/message/:id/sa-check', notImplemented('Mailwright has no SpamAssassin integration'));
  router.post('/api/v1/message/:id/release', notImplemented('Mailwright never relays captured mail'));
  router.post(
    '/api/v1/send',
    notImplemented('Mailwright captures mail over SMTP only, so that every message has a delivery record; send it to one of the SMTP listeners instead'),
  );
  router.get('/api/v1/chaos', notImplemented("Mailpit's chaos triggers are not supported; Mailwright's fault rules (/api/v1/faults) do this"));
  router.put('/api/v1/chaos', notImplemented("Mailpit's chaos triggers are not supported; Mailwright's fault rules (/api/v1/faults) do this"));

  router.get('/api/v1/tags', async (_request, response) => {
    response.json((await mailboxStats()).tags);
  });

  router.put('/api/v1/tags', async (request, response) => {
    const body = bodyObject(request);
    const ids = stringArray(body, 'IDs') ?? [];
    const tags = stringArray(body, 'Tags', 1000) ?? [];
    if (ids.length === 0) throw httpError(400, ErrorCode.INVALID_REQUEST, 'Give the messages to tag in "IDs"');
    const messages = await messagesOr404(ids);
    for (const message of messages) marks.setTags(message.id, tags);
    sendOk(response);
  });

  router.put('/api/v1/tags/:tag', async (request, response) => {
    const name = bodyObject(request).Name;
    const renamed = typeof name === 'string' ? cleanTag(name) : '';
    if (renamed === '') throw httpError(400, ErrorCode.INVALID_REQUEST, '"Name" must be a tag name (letters, digits, "-", ".", "_" and spaces)');
    const tag = request.params.tag;
    for await (const message of scanMessages(store)) {
      const tags = marks.tagsOf(message);
      if (tags.includes(tag))
        marks.setTags(
          message.id,
          tags.map((candidate) => (candidate === tag ? renamed : candidate)),
        );
    }
    sendOk(response);
  });

  router.delete('/api/v1/tags/:tag', async (request, response) => {
    const tag = request.params.tag;
    for await (const message of scanMessages(store)) {
      const tags = marks.tagsOf(message);
      if (tags.includes(tag))
        marks.setTags(
          message.id,
          tags.filter((candidate) => candidate !== tag),
        );
    }
    sendOk(response);
  });

  router.get('/view/:file', async (request, response) => {
    const match = /^(.+)\.(html|txt)$/.exec(request.params.file);
    if (!match) throw httpError(404, ErrorCode.NOT_FOUND, 'Ask for /view/{id}.html or /view/{id}.txt');
    const message = await messageOr404(match[1] ?? '');
    const content = await contentOr404(message);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    if (match[2] === 'txt') {
      response.setHeader('Content-Type', 'text/plain; charset=utf-8');
      response.end(content.text ?? '');
      return;
    }
    if (content.html === null) throw httpError(404, ErrorCode.NOT_FOUND, 'The message has no HTML body');
    response.setHeader('Content-Security-Policy', MAIL_HTML_CSP);
    response.setHeader('Content-Type', 'text/html; charset=utf-8');
    response.end(content.html);
  });

  router.use((request) => {
    throw httpError(404, ErrorCode.NOT_FOUND, `No Mailpit route ${request.method} ${request.baseUrl}${request.path}`);
  });
  router.use(errorMiddleware(context.logger));
  return {
    router,
    listItem,
    stats: async () => {
      const { total } = await store.listMessages({ limit: 1 });
      return { total, unread: Math.max(0, total - marks.readCount()) };
    },
    onUpdate: (listener) => {
      marks.onUpdate = listener;
    },
    close: () => marks.close(),
  };
}
