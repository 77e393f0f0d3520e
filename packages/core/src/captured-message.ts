import { z } from 'zod';
import { AuthenticationSchema, AuthenticationSummarySchema } from './authentication.js';
import { ProtectionSchema, ProtectionSummarySchema } from './protection.js';

/** A mailbox as it appears in a header: display name (may be empty) and address. */
export const AddressSchema = z.object({
  name: z.string(),
  address: z.string(),
});
export type Address = z.infer<typeof AddressSchema>;

/** A TLS client certificate as the server saw it. */
export const ClientCertificateSchema = z.object({
  subject: z.string(),
  issuer: z.string(),
  serialNumber: z.string(),
  fingerprint256: z.string(),
  validFrom: z.string(),
  validTo: z.string(),
  /** Whether the certificate chains to a CA the listener trusts. */
  authorized: z.boolean(),
  /** OpenSSL's reason when `authorized` is false, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`. */
  authorizationError: z.string().nullable(),
});
export type ClientCertificate = z.infer<typeof ClientCertificateSchema>;

/** How a connection was secured. */
export const TlsModeSchema = z.enum(['none', 'starttls', 'implicit']);
export type TlsMode = z.infer<typeof TlsModeSchema>;

/** How a message (or a session) travelled: the TLS record. */
export const TlsInfoSchema = z.object({
  /** How the connection was secured; for a failed handshake, the mode that was attempted. */
  mode: TlsModeSchema,
  /** STARTTLS was advertised in the EHLO reply on this connection. */
  starttlsOffered: z.boolean(),
  /** Negotiated protocol, e.g. `TLSv1.3`; null in plaintext and for a failed handshake. */
  protocol: z.string().nullable(),
  /**
   * The negotiated cipher suite. `version` is the lowest TLS version the suite exists in (as
   * Node.js's `getCipher().version` reports it, e.g. `TLSv1.0` for ECDHE-ECDSA-AES256-SHA
   * negotiated over TLS 1.2), not the negotiated version: that is `protocol`.
   */
  cipher: z.object({ name: z.string(), standardName: z.string(), version: z.string() }).nullable(),
  /** The SNI server name the client sent, read from its ClientHello (also on resumed and failed handshakes). */
  servername: z.string().nullable(),
  alpnProtocol: z.string().nullable(),
  /** The TLS session was resumed. */
  resumed: z.boolean(),
  clientCertificate: ClientCertificateSchema.nullable(),
});
export type TlsInfo = z.infer<typeof TlsInfoSchema>;

/** The plaintext TlsInfo of a connection that never negotiated TLS. */
export function plaintextTlsInfo(starttlsOffered = false): TlsInfo {
  return {
    mode: 'none',
    starttlsOffered,
    protocol: null,
    cipher: null,
    servername: null,
    alpnProtocol: null,
    resumed: false,
    clientCertificate: null,
  };
}

/** The authenticated identity of a session. The secret is never kept. */
export const AuthInfoSchema = z.object({
  mechanism: z.string(),
  username: z.string(),
});
export type AuthInfo = z.infer<typeof AuthInfoSchema>;

/** The SMTP envelope: what the client said in MAIL FROM and RCPT TO. */
export const EnvelopeSchema = z.object({
  mailFrom: z.string(),
  rcptTo: z.array(z.string()),
  /** RFC 8689 REQUIRETLS was requested in MAIL FROM. */
  requireTls: z.boolean(),
  /** RFC 6531 SMTPUTF8 was requested in MAIL FROM. */
  smtpUtf8: z.boolean(),
  body: z.enum(['7bit', '8bitmime']),
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

/** An attachment (or inline part) of a captured message. */
export const AttachmentSummarySchema = z.object({
  /** Stable id of the part within the message; used in `/attachments/:partId`. */
  partId: z.string(),
  /** The name the sender gave, verbatim (it may hold a path such as `../../etc/passwd`). */
  filename: z.string().nullable(),
  /**
   * A name that is safe to save under: the last path segment of `filename` without control,
   * reserved or bidirectional-override characters, at most 200 bytes of UTF-8, never empty
   * (`attachment-<partId>` when nothing usable is left). Downloads use it.
   */
  safeFilename: z.string(),
  /** The media type (`type/subtype`); `application/octet-stream` when the sender's value is not a valid one. */
  contentType: z.string(),
  /** Decoded size in bytes. */
  size: z.number().int().nonnegative(),
  contentId: z.string().nullable(),
});
export type AttachmentSummary = z.infer<typeof AttachmentSummarySchema>;

/** A captured message together with the record of how it was delivered. */
export const CapturedMessageSchema = z.object({
  /** Unique, lexically sortable by arrival. */
  id: z.string(),
  /** Strictly increasing per server; the streaming cursor. */
  seq: z.number().int().positive(),
  receivedAt: z.string(),
  envelope: EnvelopeSchema,
  from: AddressSchema.nullable(),
  to: z.array(AddressSchema),
  cc: z.array(AddressSchema),
  replyTo: z.array(AddressSchema),
  subject: z.string(),
  messageId: z.string().nullable(),
  date: z.string().nullable(),
  /** Bytes of the raw message as received. */
  size: z.number().int().nonnegative(),
  /** The first ~200 characters of the text body. */
  snippet: z.string(),
  attachments: z.array(AttachmentSummarySchema),
  tls: TlsInfoSchema,
  auth: AuthInfoSchema.nullable(),
  sessionId: z.string(),
  /** Name of the listener that accepted it (`smtp`, `smtps` or a custom one). */
  listener: z.string(),
  tags: z.array(z.string()),
  /**
   * SPF, DKIM and DMARC verdicts: one each in a list (a summary), the whole record in the detail
   * of `GET /messages/:id`; absent when the server does not compute them (`--authentication off`).
   */
  authentication: z.union([AuthenticationSummarySchema, AuthenticationSchema]).optional(),
  /**
   * End-to-end protection (S/MIME, OpenPGP): its summary in a list, the whole record in the
   * detail of `GET /messages/:id`.
   */
  protection: z.union([ProtectionSummarySchema, ProtectionSchema]).optional(),
});
export type CapturedMessage = z.infer<typeof CapturedMessageSchema>;

/** A part of a message that a detail shows incompletely, and why. */
export const TruncatedPartSchema = z.object({
  /** `headers`, `text` (the text body, e.g. derived from an HTML body over 16 MiB) or `body` (bodies and attachments). */
  part: z.enum(['headers', 'text', 'body']),
  reason: z.string(),
});
export type TruncatedPart = z.infer<typeof TruncatedPartSchema>;

/** `GET /messages/:id`: the message with its headers, bodies and analysis. */
export const MessageDetailSchema = CapturedMessageSchema.extend({
  /** Header name (lower-case) → every value, in order. */
  headers: z.record(z.string(), z.array(z.string())),
  text: z.string().nullable(),
  html: z.string().nullable(),
  /**
   * Every http(s) link of the bodies, in order, without duplicates: the HTML body's link targets
   * (`href`, character references decoded), then links written out in the text and HTML bodies.
   */
  links: z.array(z.string()),
  analysis: z.record(z.string(), z.unknown()),
  /**
   * Why the message could not be parsed (e.g. over 1,000 MIME parts, a header block over 1 MiB),
   * or null. What could be read is shown (the headers); `/raw` is always complete.
   */
  parseError: z.string().nullable(),
  /** What is shown incompletely, and why; empty when everything is shown. */
  truncated: z.array(TruncatedPartSchema),
  /** The whole record of SPF, DKIM, DMARC and ARC verdicts; absent when the server does not compute them. */
  authentication: AuthenticationSchema.optional(),
  /** The whole record of S/MIME or OpenPGP signatures and encryption. */
  protection: ProtectionSchema.optional(),
  /** `decrypted` when this is the decrypted inner message (`?view=decrypted`); absent for the message as received. */
  view: z.literal('decrypted').optional(),
});
export type MessageDetail = z.infer<typeof MessageDetailSchema>;
