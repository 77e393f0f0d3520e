import { z } from 'zod';
import { CapturedMessageSchema } from './captured-message.js';
import { SmtpSessionSchema } from './smtp-session.js';
import { CERTIFICATE_PROFILES, KEY_TYPES, TLS_VERSIONS, type ListenerInfo } from './listener-config.js';
import type { ServerInfo } from './server-info.js';
import { DnsRecordSchema } from './dns-record.js';
import { RegisteredKeySchema } from './protection.js';

/** An entry of `GET /api/v1/listeners` (and of `info().listeners`). */
export const ListenerInfoSchema = z.object({
  name: z.string(),
  host: z.string(),
  port: z.number().int(),
  tls: z.enum(['starttls', 'implicit', 'none']),
  starttls: z.enum(['offer', 'require', 'off', 'fail']),
  certificate: z.enum(CERTIFICATE_PROFILES),
  keyType: z.enum(KEY_TYPES).nullable(),
  minVersion: z.enum(TLS_VERSIONS),
  maxVersion: z.enum(TLS_VERSIONS),
  ciphers: z.string().nullable(),
  clientCertificate: z.enum(['off', 'request', 'require']),
  auth: z.enum(['off', 'optional', 'required']),
  clientIp: z.string().nullable().optional(),
});

/** `GET /api/v1/info`. */
export const ServerInfoSchema = z.object({
  name: z.literal('mailwright'),
  version: z.string(),
  hostname: z.string(),
  http: z.object({ host: z.string(), port: z.number().int(), url: z.string() }),
  listeners: z.array(ListenerInfoSchema),
  limits: z.object({
    maxMessageSize: z.number(),
    maxMessages: z.number(),
    maxRecipients: z.number(),
    maxMemory: z.number(),
    maxConnections: z.number(),
    maxConnectionsPerIp: z.number(),
    commandTimeoutMs: z.number(),
    dataTimeoutMs: z.number(),
  }),
  auth: z.object({ mode: z.enum(['off', 'optional', 'required']), users: z.number().int() }),
  apiTokenRequired: z.boolean(),
  compatibility: z.object({ mailpit: z.string(), mailhog: z.string() }),
});

/** `GET /api/v1/messages`: a page, newest first. */
export const MessagePageSchema = z.object({ messages: z.array(CapturedMessageSchema), total: z.number().int() });
/** `GET /api/v1/sessions`: a page, newest first. */
export const SessionPageSchema = z.object({ sessions: z.array(SmtpSessionSchema), total: z.number().int(), nextCursor: z.string().nullable() });
/** `GET /api/v1/listeners`. */
export const ListenerListSchema = z.object({ listeners: z.array(ListenerInfoSchema) });
/** `GET /api/v1/health` (200 or 503). */
export const HealthSchema = z.object({ status: z.enum(['ok', 'unavailable']), listeners: z.record(z.string(), z.boolean()) });
/** `DELETE /api/v1/messages`. */
export const DeletedMessagesSchema = z.object({ deleted: z.number().int(), ids: z.array(z.string()) });
/** `GET /api/v1/dns/records`. */
export const DnsRecordListSchema = z.object({ mode: z.enum(['mock', 'live']), records: z.array(DnsRecordSchema) });
/** `GET /api/v1/keys`. */
export const KeyListSchema = z.object({ keys: z.array(RegisteredKeySchema) });
/** `PUT /api/v1/dns/records`: the new state of the names written. */
export const DnsRecordsSchema = z.object({ records: z.array(DnsRecordSchema) });
/** `POST /api/v1/tls/client-certificates`: PEM, issued by the test CA. */
export const ClientCertificateIssueSchema = z.object({ commonName: z.string(), cert: z.string(), key: z.string(), ca: z.string() });
/** `POST /api/v1/dkim/keys`: a key whose record is published in the zone; `dkim` is nodemailer's `dkim` option (null for Ed25519). */
export const DkimKeySchema = z.object({
  domain: z.string(),
  selector: z.string(),
  algorithm: z.enum(['rsa-2048', 'rsa-1024', 'ed25519']),
  privateKey: z.string(),
  record: DnsRecordSchema,
  dkim: z.object({ domainName: z.string(), keySelector: z.string(), privateKey: z.string() }).nullable(),
});
/** Every error answer: `{ error: { code, message, details? } }`. */
export const ApiErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });

// The schemas describe exactly the declared types: a drift between them fails the build.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const listenerInfoMatches: Same<z.infer<typeof ListenerInfoSchema>, ListenerInfo> = true;
const serverInfoMatches: Same<z.infer<typeof ServerInfoSchema>, ServerInfo> = true;
void listenerInfoMatches;
void serverInfoMatches;
