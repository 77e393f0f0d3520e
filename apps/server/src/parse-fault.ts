import type { FaultRuleInput } from '@mailwright/core';
import { quote } from './parse-values.js';

/** The keys `--fault` accepts in its `key=value,…` form (JSON takes the rule's own shape). */
export const FAULT_KEYS = [
  'id',
  'at',
  'code',
  'text',
  'delay',
  'disconnect',
  'disconnect-mid-data',
  'tls-failure',
  'slow-reply',
  'greylist',
  'rate-limit',
  'recipient',
  'sender',
  'listener',
  'user',
  'client-name',
  'times',
  'nth',
  'probability',
  'seed',
] as const;

const NUMERIC = new Set(['code', 'delay', 'slow-reply', 'greylist', 'times', 'nth', 'probability', 'seed']);
const ACTION_KEYS = new Set(['code', 'delay', 'disconnect', 'disconnect-mid-data', 'tls-failure', 'slow-reply', 'greylist', 'rate-limit']);

/** What {@link parseFault} found: the rule as far as it parsed, and every problem. */
export interface ParsedFault {
  rule: Partial<FaultRuleInput>;
  problems: string[];
}

/**
 * A fault rule written as JSON (`{"at":"rcpt",…}`) or as `at=rcpt,code=451,text=4.7.1 Later,
 * recipient=a@example.test,times=1`. Only the shape is checked here; the rule itself is
 * validated by the options schema so that its rules live in one place. Every problem is reported.
 */
export function parseFault(raw: string): ParsedFault {
  const trimmed = raw.trim();
  if (trimmed.startsWith('{')) {
    try {
      return { rule: JSON.parse(trimmed) as FaultRuleInput, problems: [] };
    } catch (error) {
      return { rule: {}, problems: [`is not valid JSON (${(error as Error).message})`] };
    }
  }
  const problems: string[] = [];
  const values = new Map<string, string>();
  const items = trimmed
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) return { rule: {}, problems: ['is empty; expected at=<stage>,code=<code>,... or a JSON rule'] };
  for (const item of items) {
    const equals = item.indexOf('=');
    const key = (equals < 0 ? item : item.slice(0, equals)).trim();
    const value = equals < 0 ? 'true' : item.slice(equals + 1).trim();
    if (!(FAULT_KEYS as readonly string[]).includes(key)) {
      problems.push(`unknown key ${quote(key)} (known: ${FAULT_KEYS.join(', ')})`);
      continue;
    }
    if (values.has(key)) {
      problems.push(`key ${quote(key)} is given twice`);
      continue;
    }
    if (NUMERIC.has(key) && !/^\d+(\.\d+)?$/.test(value)) {
      problems.push(`${key}: ${quote(value)} is not a number`);
      continue;
    }
    values.set(key, value);
  }
  const actions = [...values.keys()].filter((key) => ACTION_KEYS.has(key));
  if (actions.length !== 1) problems.push(`give one action: ${[...ACTION_KEYS].join(', ')}${actions.length > 1 ? ` (got ${actions.join(', ')})` : ''}`);
  if (values.has('text') && !values.has('code')) problems.push('text needs code');
  const number = (key: string): number | undefined => (values.has(key) ? Number(values.get(key)) : undefined);
  let action: FaultRuleInput['action'] | undefined;
  switch (actions[0]) {
    case 'code':
      action = { reply: { code: number('code') as number, ...(values.has('text') ? { text: values.get('text') } : {}) } };
      break;
    case 'delay':
      action = { delay: number('delay') as number };
      break;
    case 'disconnect':
      action = { disconnect: true };
      break;
    case 'disconnect-mid-data':
      action = { disconnectMidData: true };
      break;
    case 'tls-failure':
      action = { tlsFailure: true };
      break;
    case 'slow-reply':
      action = { slowReply: { byteDelayMs: number('slow-reply') as number } };
      break;
    case 'greylist':
      action = { greylist: { retryAfterMs: number('greylist') as number } };
      break;
    case 'rate-limit': {
      const match = /^(\d+)\/(\d+)$/.exec(values.get('rate-limit') ?? '');
      if (!match) problems.push('rate-limit: expected <max>/<window ms>, e.g. rate-limit=10/60000');
      else action = { rateLimit: { max: Number(match[1]), windowMs: Number(match[2]) } };
      break;
    }
  }
  const match: Record<string, string> = {};
  for (const [key, field] of [
    ['recipient', 'recipient'],
    ['sender', 'sender'],
    ['listener', 'listener'],
    ['user', 'user'],
    ['client-name', 'clientName'],
  ] as const) {
    const value = values.get(key);
    if (value !== undefined) match[field] = value;
  }
  const rule: Record<string, unknown> = { at: values.get('at'), match };
  if (action) rule.action = action;
  if (values.has('id')) rule.id = values.get('id');
  for (const key of ['times', 'nth', 'probability', 'seed'] as const) if (values.has(key)) rule[key] = number(key);
  if (!values.has('at')) problems.push('at=<stage> is required');
  return { rule: rule as Partial<FaultRuleInput>, problems };
}
