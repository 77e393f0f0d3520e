import { ErrorCode, MailwrightError } from '@mailwright/core';

/** Why the operating system refused a listen(), in words a user can act on; null for other errors. */
function bindProblem(code: string | undefined, port: number, host: string): { reason: string; statusCode: number } | null {
  switch (code) {
    case 'EADDRINUSE':
      return { reason: `port ${port} on ${host} is already in use`, statusCode: 409 };
    case 'EACCES':
      return { reason: `binding port ${port} on ${host} is not permitted (ports below 1024 need privileges)`, statusCode: 403 };
    case 'EADDRNOTAVAIL':
      return { reason: `${host} is not an address of this machine`, statusCode: 400 };
    default:
      return null;
  }
}

/**
 * Turns a failed listen() into a `LISTENER_START_FAILED` error that names the port and why
 * (`what` says whose socket it was, e.g. `Listener "lab"`); other errors are returned as they are.
 */
export function bindError(error: unknown, what: string, port: number, host: string): unknown {
  const problem = bindProblem((error as NodeJS.ErrnoException | null)?.code, port, host);
  if (!problem) return error;
  return new MailwrightError(ErrorCode.LISTENER_START_FAILED, `${what}: ${problem.reason}`, { statusCode: problem.statusCode, cause: error });
}
