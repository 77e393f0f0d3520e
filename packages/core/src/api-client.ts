import { ErrorCode, MailwrightError, type ErrorBody } from './error-codes.js';

/** A query string value; `undefined` leaves the parameter out. */
export type QueryValue = string | number | boolean | undefined;

/** Query parameters of an {@link ApiClient} request. */
export type ApiQuery = Readonly<Record<string, QueryValue>> | URLSearchParams;

/** Options of one {@link ApiClient} request. */
export interface ApiRequestOptions {
  query?: ApiQuery;
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal;
}

/** Options of {@link ApiClient}. */
export interface ApiClientOptions {
  /**
   * The server's base URL, e.g. `http://127.0.0.1:8025`. Default `''`: paths relative to the
   * page's origin (in a browser).
   */
  baseUrl?: string;
  /** The API token, sent as `Authorization: Bearer …`; a function is asked on every request. */
  token?: string | null | (() => string | null | undefined);
  /** The Fetch API to use. Default: the global `fetch` (Node.js ≥ 20 and browsers). */
  fetch?: typeof fetch;
}

/**
 * Talks JSON to `/api/v1` over the Fetch API, in Node.js and in browsers. An error answer
 * becomes a {@link MailwrightError} with the `code` and `message` of its `{ error: { code,
 * message } }` body, the HTTP status as `statusCode` and `details`; an unreachable server an
 * `INTERNAL` one saying so.
 */
export class ApiClient {
  /** The base URL, without a trailing slash. */
  readonly baseUrl: string;
  readonly #token: () => string | null | undefined;
  readonly #fetch: typeof fetch | undefined;

  constructor(options: ApiClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    const token = options.token;
    this.#token = typeof token === 'function' ? token : () => token;
    this.#fetch = options.fetch;
  }

  /** The `Authorization` header, when a token is configured. */
  headers(): Record<string, string> {
    const token = this.#token();
    return token === undefined || token === null || token === '' ? {} : { authorization: `Bearer ${token}` };
  }

  /** The address of an API path (below `/api/v1`) with its query. */
  url(path: string, query?: ApiQuery): string {
    const search = query instanceof URLSearchParams ? new URLSearchParams(query) : new URLSearchParams();
    if (!(query instanceof URLSearchParams)) for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) search.set(key, String(value));
    const text = search.toString();
    return `${this.baseUrl}/api/v1${path}${text ? `?${text}` : ''}`;
  }

  /** Sends a request; resolves with a successful response, rejects with a {@link MailwrightError}. */
  async request(method: string, path: string, options: ApiRequestOptions = {}): Promise<Response> {
    const fetchImpl = this.#fetch ?? globalThis.fetch;
    let response: Response;
    try {
      response = await fetchImpl(this.url(path, options.query), {
        method,
        headers: { ...this.headers(), ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new MailwrightError(ErrorCode.INTERNAL, `Cannot reach Mailwright${this.baseUrl ? ` at ${this.baseUrl}` : ''}: ${reason}`, { cause });
    }
    if (!response.ok) throw await responseError(method, path, response);
    return response;
  }

  /** The JSON answer (`undefined` for 204 No Content). */
  async json<T>(method: string, path: string, options: ApiRequestOptions = {}): Promise<T> {
    const response = await this.request(method, path, options);
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  /** The answer of a GET as text. */
  async text(path: string, options: ApiRequestOptions = {}): Promise<string> {
    return (await this.request('GET', path, options)).text();
  }

  /** The answer of a GET as bytes. */
  async arrayBuffer(path: string, options: ApiRequestOptions = {}): Promise<ArrayBuffer> {
    return (await this.request('GET', path, options)).arrayBuffer();
  }
}

async function responseError(method: string, path: string, response: Response): Promise<MailwrightError> {
  let body: Partial<ErrorBody> | null = null;
  try {
    body = (await response.json()) as Partial<ErrorBody> | null;
  } catch {
    // not JSON: a generic error below
  }
  const error = typeof body === 'object' && body !== null && typeof body.error === 'object' && body.error !== null ? body.error : undefined;
  return new MailwrightError(
    typeof error?.code === 'string' ? (error.code as ErrorCode) : ErrorCode.INTERNAL,
    typeof error?.message === 'string' ? error.message : `${method} ${path} failed with HTTP ${response.status}`,
    { statusCode: response.status, details: error?.details },
  );
}
