import type { SmtpSession } from '@mailwright/core';

/**
 * What a store keeps of a saved session: a copy of the record whose lists (transcript, message
 * ids, faults) are its own, so that the live session going on changes nothing stored. The lines
 * and nested records are shared: the SMTP side only ever appends lines and replaces records.
 */
export function snapshotSession(session: SmtpSession): SmtpSession {
  const snapshot = { ...session };
  for (const [key, value] of Object.entries(snapshot)) if (Array.isArray(value)) (snapshot as Record<string, unknown>)[key] = value.slice();
  return snapshot;
}
