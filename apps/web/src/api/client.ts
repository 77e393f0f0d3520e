import {
  ApiClient,
  ErrorCode,
  MailwrightError,
  isMailwrightError,
  type CapturedMessage,
  type MessageDetail,
  type MessageFilter,
  type Protection,
  type ServerInfo,
  type SmtpSession,
} from '@mailwright/core';

/** Where the REST API lives, relative to the page. */
export const API_BASE = '/api/v1';

const TOKEN_KEY = 'mailwright.token';

/** The API token, when the server requires one; taken once from `?token=` and kept for the tab. */
export function apiToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Remembers (or forgets, with null) the API token for this tab. */
export function setApiToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Moves a `?token=` from the page address into storage, so it is not left in the history. */
export function adoptTokenFromLocation(): void {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (token === null) return;
  setApiToken(token);
  url.searchParams.delete('token');
  history.replaceState(history.state, '', url);
}

/** The query string of a filter: only the fields that are set. */
export function filterQuery(filter: MessageFilter): URLSearchParams {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) if (typeof value === 'string' && value !== '') query.set(key, value);
  return query;
}

/** An API address for the browser to load by itself (links, images, downloads): carries the token. */
export function apiUrl(path: string, query = new URLSearchParams()): string {
  const token = apiToken();
  if (token) query.set('token', token);
  const search = query.toString();
  return `${API_BASE}${path}${search ? `?${search}` : ''}`;
}

/** A failed API call as the views show it: an error answer (with `statusCode`) or an unreachable server. */
export function asApiError(error: unknown): MailwrightError {
  return isMailwrightError(error) ? error : new MailwrightError(ErrorCode.INTERNAL, error instanceof Error ? error.message : String(error), { cause: error });
}

/** The page's API client: relative to the page, with the token of this tab. */
const client = new ApiClient({ token: apiToken });

const json = <T>(path: string, query?: URLSearchParams): Promise<T> => client.json<T>('GET', path, { query });

const messagePath = (id: string): string => `/messages/${encodeURIComponent(id)}`;

/** A page of messages, newest first. */
export interface MessagePage {
  messages: CapturedMessage[];
  total: number;
}

/** The REST API of a Mailwright server, as the viewer uses it. */
export const api = {
  info: () => json<ServerInfo>('/info'),

  listMessages(filter: MessageFilter, page: { limit: number; before?: number }): Promise<MessagePage> {
    const query = filterQuery(filter);
    query.set('limit', String(page.limit));
    if (page.before !== undefined) query.set('before', String(page.before));
    return json<MessagePage>('/messages', query);
  },

  getMessage: (id: string) => json<MessageDetail>(messagePath(id)),

  /** The decrypted message (same shape as the message, `view: 'decrypted'`); 404 `NOT_DECRYPTED` when there is none. */
  getDecrypted: (id: string) => json<MessageDetail>(messagePath(id), new URLSearchParams({ view: 'decrypted' })),

  /** Examines the message's S/MIME or OpenPGP protection again, with the keys registered now. */
  reexamineProtection: (id: string) => client.json<Protection>('POST', `${messagePath(id)}/protection`),

  async getRaw(id: string): Promise<string> {
    return client.text(`${messagePath(id)}/raw`);
  },

  getMessageSession: (id: string) => json<SmtpSession>(`${messagePath(id)}/session`),

  async deleteMessage(id: string): Promise<void> {
    await client.request('DELETE', messagePath(id));
  },

  /** Deletes the messages matching the filter; every message when it has no criteria. */
  async deleteMessages(filter: MessageFilter): Promise<void> {
    const query = filterQuery(filter);
    await client.request('DELETE', '/messages', { query: query.size > 0 ? query : new URLSearchParams({ all: 'true' }) });
  },

  listSessions: (limit: number) => json<{ sessions: SmtpSession[]; total: number }>('/sessions', new URLSearchParams({ limit: String(limit) })),

  getSession: (id: string) => json<SmtpSession>(`/sessions/${encodeURIComponent(id)}`),

  /** An attachment's address; `decrypted` for one of the decrypted message's attachments. */
  attachmentUrl: (id: string, partId: string, decrypted = false) =>
    apiUrl(`${messagePath(id)}/attachments/${encodeURIComponent(partId)}`, decrypted ? new URLSearchParams({ view: 'decrypted' }) : undefined),

  rawUrl: (id: string, download = false) => apiUrl(`${messagePath(id)}/raw`, download ? new URLSearchParams({ download: 'true' }) : undefined),
};
