/** The outcome of {@link checkHealth}. */
export interface HealthResult {
  healthy: boolean;
  /** One line for humans: `HTTP 200`, `HTTP 503`, `no answer within 3000 ms`, `connect ECONNREFUSED …`. */
  detail: string;
}

/**
 * GETs `<url>/api/v1/health`; healthy when it answers 200 within `timeoutMs`. Never throws.
 * The Docker image's HEALTHCHECK runs this, as the image has no curl.
 */
export async function checkHealth(url: string, timeoutMs: number): Promise<HealthResult> {
  const target = `${url.replace(/\/+$/, '')}/api/v1/health`;
  try {
    const response = await fetch(target, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    await response.body?.cancel();
    return { healthy: response.status === 200, detail: `HTTP ${response.status} from ${target}` };
  } catch (error) {
    const name = (error as Error | null)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') return { healthy: false, detail: `no answer from ${target} within ${timeoutMs} ms` };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { healthy: false, detail: `${target}: ${cause?.code ?? cause?.message ?? (error as Error).message}` };
  }
}
