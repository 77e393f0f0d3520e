import { ErrorCode, FaultRuleSchema, ListenerConfigSchema, MAX_FAULT_RULES, MailwrightError, TLS_VERSIONS } from '@mailwright/core';
import { MailwrightOptionsSchema, type MailwrightOptions, type ResolvedMailwrightOptions } from '@mailwright/core/options';

// The schema lives in core, so that the SDK's in-process start() and the CLI share it.
export { MailwrightOptionsSchema, type MailwrightOptions, type ResolvedMailwrightOptions };

/** The names of the two default listeners. */
export const DEFAULT_LISTENER_NAMES = ['smtp', 'smtps'] as const;

/** Whether an address to bind to is loopback only (`localhost`, 127.0.0.0/8, `::1`). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(?:\.\d{1,3}){3}$/.test(bare) || /^::ffff:127(?:\.\d{1,3}){3}$/.test(bare);
}

/** One problem of a configuration: where, and what. */
export interface OptionsProblem {
  path: string;
  message: string;
}

function pathOf(path: readonly PropertyKey[]): string {
  return path
    .map((part) => (typeof part === 'number' ? `[${part}]` : String(part)))
    .join('.')
    .replace(/\.\[/g, '[');
}

/**
 * Validates options once and fills in defaults. Every problem is reported at once in a
 * `MailwrightError` with code `INVALID_OPTIONS` and `details: OptionsProblem[]`.
 */
export function resolveMailwrightOptions(options: MailwrightOptions = {}): ResolvedMailwrightOptions {
  const problems: OptionsProblem[] = [];
  const parsed = MailwrightOptionsSchema.safeParse(options);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push({ path: pathOf(issue.path), message: issue.message });
  }
  /** Valid listeners with their index in the input, so that problems name the right one. */
  const listeners: [number, ReturnType<typeof ListenerConfigSchema.parse>][] = [];
  const rawListeners = Array.isArray(options.listeners) ? options.listeners : [];
  rawListeners.forEach((raw, index) => {
    const listener = ListenerConfigSchema.safeParse(raw);
    if (!listener.success) {
      for (const issue of listener.error.issues) problems.push({ path: pathOf(['listeners', index, ...issue.path]), message: issue.message });
    } else listeners.push([index, listener.data]);
  });
  const rawFaults = Array.isArray(options.faults) ? options.faults : [];
  if (rawFaults.length > MAX_FAULT_RULES) problems.push({ path: 'faults', message: `at most ${MAX_FAULT_RULES} fault rules, ${rawFaults.length} given` });
  rawFaults.forEach((raw, index) => {
    const fault = FaultRuleSchema.safeParse(raw);
    if (!fault.success) for (const issue of fault.error.issues) problems.push({ path: pathOf(['faults', index, ...issue.path]), message: issue.message });
  });
  if (parsed.success) {
    const data = parsed.data;
    if ((data.tlsCert === undefined) !== (data.tlsKey === undefined)) {
      problems.push({ path: data.tlsCert === undefined ? 'tlsCert' : 'tlsKey', message: 'tlsCert and tlsKey must be given together' });
    }
    if (TLS_VERSIONS.indexOf(data.tlsMinVersion) > TLS_VERSIONS.indexOf(data.tlsMaxVersion)) {
      problems.push({ path: 'tlsMinVersion', message: `${data.tlsMinVersion} is above tlsMaxVersion ${data.tlsMaxVersion}` });
    }
    const names = new Set<string>(DEFAULT_LISTENER_NAMES);
    const ports = new Map<number, string>();
    for (const [name, value] of [
      ['smtpPort', data.smtpPort],
      ['smtpsPort', data.smtpsPort],
      ['httpPort', data.httpPort],
    ] as const) {
      if (value === 0) continue;
      const other = ports.get(value);
      if (other) problems.push({ path: name, message: `port ${value} is also used by ${other}` });
      else ports.set(value, name);
    }
    for (const [index, listener] of listeners) {
      if (names.has(listener.name)) problems.push({ path: `listeners[${index}].name`, message: `listener name "${listener.name}" is already taken` });
      names.add(listener.name);
      if (listener.port !== 0) {
        const other = ports.get(listener.port);
        if (other) problems.push({ path: `listeners[${index}].port`, message: `port ${listener.port} is also used by ${other}` });
        else ports.set(listener.port, `listener ${listener.name}`);
      }
    }
    if (!isLoopbackHost(data.host) && data.apiToken === undefined && !data.insecureNoToken) {
      problems.push({
        path: 'host',
        message: `binding to ${data.host} lets anyone who reaches it read and delete every message; set apiToken, or insecureNoToken on a private network`,
      });
    }
    if (data.storage === 'memory') {
      for (const key of ['maxAge', 'maxBytes'] as const) {
        if (data[key] !== undefined)
          problems.push({ path: key, message: `${key} needs storage "sqlite"; memory storage is bounded by maxMessages and maxMemory` });
      }
    }
    const usernames = new Set<string>();
    for (const [index, user] of data.authUsers.entries()) {
      if (usernames.has(user.username)) problems.push({ path: `authUsers[${index}]`, message: `user "${user.username}" is listed twice` });
      usernames.add(user.username);
    }
  }
  if (problems.length > 0 || !parsed.success) {
    throw new MailwrightError(
      ErrorCode.INVALID_OPTIONS,
      `Invalid Mailwright options:\n${problems.map((problem) => `  - ${problem.path || '(options)'}: ${problem.message}`).join('\n')}`,
      { details: problems },
    );
  }
  return Object.freeze({ ...parsed.data, listeners: Object.freeze(listeners.map(([, listener]) => listener)), logger: parsed.data.logger ?? false });
}
