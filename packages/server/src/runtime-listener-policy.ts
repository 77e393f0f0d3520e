import { ErrorCode, MailwrightError } from '@mailwright/core';

/** Ports below this need privileges on most systems and belong to real services. */
export const FIRST_UNPRIVILEGED_PORT = 1024;

/**
 * Refuses (400) what a listener created over the API may not do unless the server allows it:
 * binding a port below 1024. Listeners always bind the server's own `host` (the listener
 * schema has no address), so the API cannot open a port on another interface.
 */
export function checkRuntimeListener(config: unknown, policy: { allowPrivilegedPorts: boolean }): void {
  const port = typeof config === 'object' && config !== null ? (config as { port?: unknown }).port : undefined;
  if (!policy.allowPrivilegedPorts && typeof port === 'number' && port > 0 && port < FIRST_UNPRIVILEGED_PORT) {
    throw new MailwrightError(
      ErrorCode.INVALID_REQUEST,
      `port ${port} is below ${FIRST_UNPRIVILEGED_PORT}: listeners created over the API may not use privileged ports unless the server allows it (--allow-privileged-ports)`,
      { statusCode: 400 },
    );
  }
}
