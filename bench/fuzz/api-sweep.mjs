// Reads back everything a run captured through the REST API, as the viewer and the SDK do:
// every message (list pages, detail, raw, html, text, session, each attachment) and every
// session the list returns. Counts answers by status class and keeps every 5xx.

const PAGE_LIMIT = 1000;
const CONCURRENCY = 4;
const MAX_SESSION_PAGES = 1_000;
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * @param {string} apiUrl the base URL of the API, e.g. http://127.0.0.1:8025/api/v1
 * @param {{ deadline?: number }} [options] a Date.now() value after which no further message is read
 */
export async function sweepApi(apiUrl, { deadline = Infinity } = {}) {
  const result = {
    /** Messages read back in full before the deadline. */
    swept: 0,
    requests: 0,
    status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, failed: 0 },
    serverErrors: [],
    messages: [],
    sessions: 0,
    slowest: { path: null, ms: 0 },
  };

  async function get(path, { json = false } = {}) {
    result.requests++;
    const started = performance.now();
    try {
      const response = await fetch(`${apiUrl}${path}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const body = Buffer.from(await response.arrayBuffer());
      const ms = performance.now() - started;
      if (ms > result.slowest.ms) result.slowest = { path, ms };
      result.status[`${Math.floor(response.status / 100)}xx`] = (result.status[`${Math.floor(response.status / 100)}xx`] ?? 0) + 1;
      if (response.status >= 500) result.serverErrors.push({ path, status: response.status, body: body.toString('utf8').slice(0, 300) });
      return json && response.ok ? JSON.parse(body.toString('utf8')) : null;
    } catch (error) {
      result.status.failed++;
      result.serverErrors.push({ path, status: 0, body: error.message });
      return null;
    }
  }

  async function inParallel(items, work) {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < items.length) await work(items[next++]);
      }),
    );
  }

  let before = null;
  for (;;) {
    const page = await get(`/messages?limit=${PAGE_LIMIT}${before === null ? '' : `&before=${before}`}`, { json: true });
    if (!page || page.messages.length === 0) break;
    result.messages.push(...page.messages);
    before = page.messages.at(-1).seq;
    if (page.messages.length < PAGE_LIMIT) break;
  }

  await inParallel(result.messages, async (message) => {
    if (Date.now() > deadline) return;
    result.swept++;
    const id = encodeURIComponent(message.id);
    const detail = await get(`/messages/${id}`, { json: true });
    await get(`/messages/${id}/raw`);
    await get(`/messages/${id}/html`);
    await get(`/messages/${id}/text`);
    await get(`/messages/${id}/session`);
    const attachments = detail?.attachments ?? message.attachments ?? [];
    for (const attachment of attachments) await get(`/messages/${id}/attachments/${encodeURIComponent(attachment.partId)}`);
  });

  if (Date.now() > deadline) return result;
  // Sessions: every page, following `nextCursor` where the server pages them.
  const list = [];
  let cursor = null;
  for (let page = 0; page < MAX_SESSION_PAGES; page++) {
    const body = await get(`/sessions?limit=${PAGE_LIMIT}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { json: true });
    list.push(...(body?.sessions ?? []));
    cursor = body?.nextCursor ?? null;
    if (!cursor || Date.now() > deadline) break;
  }
  result.sessions = list.length;
  await inParallel(list, (session) => get(`/sessions/${encodeURIComponent(session.id)}`));
  return result;
}
