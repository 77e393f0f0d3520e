import { ErrorCode } from '@mailwright/core';
import { httpError } from './http-error.js';

type Query = Record<string, unknown>;

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  return typeof last === 'string' && last !== '' ? last : undefined;
}

/** An optional non-negative integer query parameter, bounded; 400 when malformed. */
export function integerParam(query: Query, name: string, bounds: { min: number; max: number; fallback?: number }): number | undefined {
  const text = single(query, name);
  if (text === undefined) return bounds.fallback;
  if (!/^\d{1,15}$/.test(text)) throw httpError(400, ErrorCode.INVALID_REQUEST, `"${name}" must be a whole number`);
  const value = Number(text);
  if (value < bounds.min || value > bounds.max) {
    throw httpError(400, ErrorCode.INVALID_REQUEST, `"${name}" must be between ${bounds.min} and ${bounds.max}`);
  }
  return value;
}

/** A boolean query parameter: `true`/`1` or `false`/`0`. */
export function booleanParam(query: Query, name: string): boolean {
  const text = single(query, name);
  if (text === undefined) return false;
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw httpError(400, ErrorCode.INVALID_REQUEST, `"${name}" must be true or false`);
}

/** An optional string query parameter. */
export function stringParam(query: Query, name: string): string | undefined {
  return single(query, name);
}
