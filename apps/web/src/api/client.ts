import type { CapturedMessage, MessageDetail, MessageFilter, ServerInfo, SmtpSession } from '@mailwright/core';

/** Where the REST API lives, relative to the page. */
export const API_BASE = '/api/v1';

const TOKEN_KEY = 'mailwright.token';

/** An error answer of the API, or a network failure (`status` 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

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

async function request(method: 'GET' | 'DELETE', path: string, query?: URLSearchParams): Promise<Response> {
  const search = query?.toString();
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = apiToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(`${API_BASE}${path}${search ? `?${search}` : ''}`, { method, headers });
  } catch (cause) {
    throw new ApiError(0, 'NETWORK', cause instanceof Error ? cause.message : 'The server cannot be reached');
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new ApiError(response.status, body?.error?.code ?? 'HTTP_ERROR', body?.error?.message ?? `${method} ${path}: HTTP ${response.status}`);
  }
  return response;
}

async function json<T>(path: string, query?: URLSearchParams): Promise<T> {
  return (await (await request('GET', path, query)).json()) as T;
}

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

  async getRaw(id: string): Promise<string> {
    return (await request('GET', `${messagePath(id)}/raw`)).text();
  },

  getMessageSession: (id: string) => json<SmtpSession>(`${messagePath(id)}/session`),

  async deleteMessage(id: string): Promise<void> {
    await request('DELETE', messagePath(id));
  },

  /** Deletes the messages matching the filter; every message when it has no criteria. */
  async deleteMessages(filter: MessageFilter): Promise<void> {
    const query = filterQuery(filter);
    await request('DELETE', '/messages', query.size > 0 ? query : new URLSearchParams({ all: 'true' }));
  },

  listSessions: (limit: number) => json<{ sessions: SmtpSession[]; total: number }>('/sessions', new URLSearchParams({ limit: String(limit) })),

  getSession: (id: string) => json<SmtpSession>(`/sessions/${encodeURIComponent(id)}`),

  attachmentUrl: (id: string, partId: string) => apiUrl(`${messagePath(id)}/attachments/${encodeURIComponent(partId)}`),

  rawUrl: (id: string, download = false) => apiUrl(`${messagePath(id)}/raw`, download ? new URLSearchParams({ download: 'true' }) : undefined),
};
