import { ErrorCode, MailwrightError, type ErrorBody } from '@mailwright/core';

/** Talks JSON to `/api/v1`, turning error bodies into `MailwrightError`s with their code. */
export class HttpClient {
  readonly baseUrl: string;
  readonly #token: string | undefined;

  constructor(baseUrl: string, token: string | undefined) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#token = token;
  }

  /** The `Authorization` header, when a token is configured. */
  headers(): Record<string, string> {
    return this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` };
  }

  url(path: string, query?: Record<string, string | number | boolean | undefined>): string {
    const url = new URL(`${this.baseUrl}/api/v1${path}`);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  async request(
    method: string,
    path: string,
    options: { query?: Record<string, string | number | boolean | undefined>; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(this.url(path, options.query), {
        method,
        headers: { ...this.headers(), ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (cause) {
      throw new MailwrightError(ErrorCode.INTERNAL, `Cannot reach Mailwright at ${this.baseUrl}: ${(cause as Error).message}`, { cause });
    }
    if (!response.ok) {
      let body: Partial<ErrorBody> = {};
      try {
        body = (await response.json()) as ErrorBody;
      } catch {
        // not JSON: fall through to a generic error
      }
      throw new MailwrightError(
        (body.error?.code as ErrorCode | undefined) ?? ErrorCode.INTERNAL,
        body.error?.message ?? `${method} ${path} failed with HTTP ${response.status}`,
        {
          statusCode: response.status,
          details: body.error?.details,
        },
      );
    }
    return response;
  }

  async json<T>(method: string, path: string, options: { query?: Record<string, string | number | boolean | undefined>; body?: unknown } = {}): Promise<T> {
    const response = await this.request(method, path, options);
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  async bytes(path: string): Promise<Buffer> {
    const response = await this.request('GET', path);
    return Buffer.from(await response.arrayBuffer());
  }

  async text(path: string): Promise<string> {
    return (await this.request('GET', path)).text();
  }
}
