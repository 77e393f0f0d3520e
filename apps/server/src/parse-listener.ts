import { ListenerConfigSchema, type ListenerConfig } from '@mailwright/core';
import { parsePort, quote } from './parse-values.js';

/** The keys `--listener` accepts: the fields of the listener schema, in camelCase or kebab-case. */
export const LISTENER_KEYS: readonly string[] = Object.keys(ListenerConfigSchema.shape);

const kebabToCamel = (key: string): string => key.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());

/** What {@link parseListener} found: the well-formed part of the profile, and every problem. */
export interface ParsedListener {
  /** The keys that parsed (a malformed item is left out, so other checks can still run). */
  config: Partial<ListenerConfig>;
  problems: string[];
}

/**
 * A listener profile written as `name=lab,port=2526,certificate=expired`. Only the shape is
 * checked here (keys, `key=value`, the port number); the values are validated by the options
 * schema so that its rules live in one place. Every problem is reported.
 */
export function parseListener(raw: string): ParsedListener {
  const problems: string[] = [];
  const config: Record<string, string | number> = {};
  const items = raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) return { config, problems: ['is empty; expected name=<name>,port=<port>,...'] };
  for (const item of items) {
    const equals = item.indexOf('=');
    if (equals <= 0) {
      problems.push(`${quote(item)} is not key=value`);
      continue;
    }
    const rawKey = item.slice(0, equals).trim();
    const value = item.slice(equals + 1).trim();
    const key = kebabToCamel(rawKey);
    if (!LISTENER_KEYS.includes(key)) {
      problems.push(`unknown key ${quote(rawKey)} (known: ${LISTENER_KEYS.join(', ')})`);
      continue;
    }
    if (key in config) {
      problems.push(`key ${quote(rawKey)} is given twice`);
      continue;
    }
    if (key === 'port') {
      const port = parsePort(value);
      if (port.ok) config[key] = port.value;
      else problems.push(`port: ${port.message}`);
    } else config[key] = value;
  }
  if (config.name === undefined) problems.push('name=<name> is required');
  return { config: config as Partial<ListenerConfig>, problems };
}
