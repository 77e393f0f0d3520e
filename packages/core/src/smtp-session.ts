import { z } from 'zod';
import { AuthInfoSchema, TlsInfoSchema } from './captured-message.js';
import { FiredFaultSchema } from './fault-rule.js';

/** One line of the SMTP dialogue. */
export const TranscriptLineSchema = z.object({
  /** Milliseconds since the connection opened. */
  at: z.number().nonnegative(),
  dir: z.enum(['client', 'server']),
  /** The line without CRLF; AUTH secrets are redacted, DATA content is not repeated. */
  line: z.string(),
  /** The id of the fault rule that caused this line, on lines a fault wrote. */
  fault: z.string().optional(),
});
export type TranscriptLine = z.infer<typeof TranscriptLineSchema>;

/** Where a session failed. */
export const SessionErrorSchema = z.object({
  stage: z.enum(['tls', 'smtp', 'socket']),
  /** e.g. `certificate_expired`, `unknown_ca`, `protocol_version`, `closed_after_handshake`. */
  code: z.string(),
  message: z.string(),
});
export type SessionError = z.infer<typeof SessionErrorSchema>;

/** One SMTP connection, including ones that failed before carrying mail. */
export const SmtpSessionSchema = z.object({
  id: z.string(),
  listener: z.string(),
  localPort: z.number().int(),
  remoteAddress: z.string(),
  remotePort: z.number().int(),
  openedAt: z.string(),
  closedAt: z.string().nullable(),
  greeting: z.enum(['HELO', 'EHLO', 'LHLO']).nullable(),
  /** The HELO/EHLO argument. */
  clientName: z.string().nullable(),
  tls: TlsInfoSchema,
  auth: AuthInfoSchema.nullable(),
  /** Credentials were sent on a plaintext connection. */
  authBeforeTls: z.boolean(),
  transcript: z.array(TranscriptLineSchema),
  messageIds: z.array(z.string()),
  error: SessionErrorSchema.nullable(),
  /** The fault rules that fired in this session, in order (see the `faults` API). */
  faults: z.array(FiredFaultSchema).optional(),
});
export type SmtpSession = z.infer<typeof SmtpSessionSchema>;
