import { ListenerConfigSchema } from '@mailwright/core';
import type { FlagSpec } from './flag-spec.js';
import { HEALTHCHECK_FLAGS, SERVE_FLAGS } from './flags.js';

function flagRows(specs: readonly FlagSpec[]): string[] {
  const left = specs.map((spec) => `${spec.short ? `-${spec.short}, ` : '    '}--${spec.name}${spec.value ? ` ${spec.value}` : ''}`);
  const width = Math.max(...left.map((text) => text.length)) + 2;
  return specs.flatMap((spec, index) => {
    // Choices the placeholder does not already show.
    const choices = spec.choices && spec.value !== spec.choices.join('|') ? `one of: ${spec.choices.join(', ')}` : null;
    const details = [choices, spec.defaultText ? `default: ${spec.defaultText}` : null, spec.env ? `env: ${spec.env}` : null].filter((part) => part !== null);
    const lines = [`  ${(left[index] ?? '').padEnd(width)}${spec.description}`];
    if (details.length > 0) lines.push(`  ${''.padEnd(width)}  ${details.join('; ')}`);
    return lines;
  });
}

const kebab = (key: string): string => key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** The keys of `--listener`, from the listener schema: `tls (starttls|implicit|none)`, … */
function listenerKeys(): string[] {
  return Object.entries(ListenerConfigSchema.shape).map(([key, field]) => {
    let inner: unknown = field;
    while (inner instanceof Object && 'unwrap' in inner && typeof inner.unwrap === 'function') inner = (inner as { unwrap(): unknown }).unwrap();
    const choices = inner instanceof Object && 'options' in inner && Array.isArray(inner.options) ? ` (${inner.options.join('|')})` : '';
    return `${kebab(key)}${key === 'ciphers' ? ' (separated by ":")' : choices}`;
  });
}

/** How the variables of repeatable flags separate their items: `,`, or `;` for listeners. */
function listSeparators(specs: readonly FlagSpec[]): string[] {
  const bySeparator = new Map<string, string[]>();
  for (const spec of specs) {
    if (spec.multiple && spec.env && spec.envSeparator) bySeparator.set(spec.envSeparator, [...(bySeparator.get(spec.envSeparator) ?? []), spec.env]);
  }
  return [...bySeparator].flatMap(([separator, names]) => wrapItems(`Variables of repeatable flags separating items with "${separator}":`, names, ',', '.'));
}

/** `head` and the items, each followed by `separator` (the last by `end`), in lines of at most 100 characters. */
function wrapItems(head: string, items: readonly string[], separator: string, end: string): string[] {
  const lines: string[] = [];
  let line = head;
  items.forEach((item, index) => {
    const text = `${item}${index === items.length - 1 ? end : separator}`;
    if (line.length + 1 + text.length > 100) {
      lines.push(line);
      line = `  ${text}`;
    } else line = `${line} ${text}`;
  });
  return [...lines, line];
}

/** The text of `mailwright --help` or `mailwright healthcheck --help`. */
export function formatHelp(topic: 'serve' | 'healthcheck'): string {
  if (topic === 'healthcheck') {
    return [
      'Usage: mailwright healthcheck [--url <url>] [--timeout <ms>]',
      '',
      'Exits 0 when GET <url>/api/v1/health answers 200 in time, else 1.',
      '',
      'Flags:',
      ...flagRows(HEALTHCHECK_FLAGS),
      '',
    ].join('\n');
  }
  return [
    'Usage: mailwright [flags]',
    '       mailwright healthcheck [--url <url>]',
    '',
    'Mock SMTP inboxes that capture every message and how it was delivered.',
    '',
    'Flags (every flag also reads its environment variable; flags win):',
    ...flagRows(SERVE_FLAGS),
    '',
    ...wrapItems('--listener keys:', listenerKeys(), ',', '.'),
    ...listSeparators(SERVE_FLAGS),
    '',
    'Exit status: 0 after a clean shutdown, 1 when the server cannot start, 2 for invalid configuration.',
    '',
  ].join('\n');
}
