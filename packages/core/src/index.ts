export {
  AddressSchema,
  AttachmentSummarySchema,
  AuthInfoSchema,
  CapturedMessageSchema,
  ClientCertificateSchema,
  EnvelopeSchema,
  MessageDetailSchema,
  TlsInfoSchema,
  TlsModeSchema,
  TruncatedPartSchema,
  plaintextTlsInfo,
} from './captured-message.js';
export type {
  Address,
  AttachmentSummary,
  AuthInfo,
  CapturedMessage,
  ClientCertificate,
  Envelope,
  MessageDetail,
  TruncatedPart,
  TlsInfo,
  TlsMode,
} from './captured-message.js';
export { SessionErrorSchema, SmtpSessionSchema, TranscriptLineSchema } from './smtp-session.js';
export type { SessionError, SmtpSession, TranscriptLine } from './smtp-session.js';
export {
  MAX_PATTERN_INSTRUCTIONS,
  MAX_PATTERN_LENGTH,
  REGEX_WORK_BUDGET,
  MESSAGE_FILTER_FIELDS,
  MessageFilterSchema,
  compileFilter,
  isEmptyFilter,
  matchesFilter,
  hasVerdictFilter,
  pickFilter,
} from './message-filter.js';
export type { FilterSubject, MessageFilter, MessageMatcher } from './message-filter.js';
export { ErrorCode, MailwrightError, isMailwrightError } from './error-codes.js';
export type { ErrorBody, MailwrightErrorOptions } from './error-codes.js';
export { CERTIFICATE_PROFILES, IpAddressSchema, KEY_TYPES, ListenerConfigSchema, TLS_VERSIONS } from './listener-config.js';
export type { CertificateProfile, KeyType, ListenerConfig, ListenerInfo, TlsVersion } from './listener-config.js';
export type { ServerInfo } from './server-info.js';
export { ClientFrameSchema, STREAM_CLOSE_SLOW_CLIENT, STREAM_PROTOCOL, SubscribeFrameSchema, UnsubscribeFrameSchema } from './stream-frames.js';
export type { ClientFrame, ServerFrame, SubscribeFrame, UnsubscribeFrame } from './stream-frames.js';
export { StreamStateMachine } from './stream-state-machine.js';
export type { StreamCommand, StreamStateMachineOptions, StreamStatus, StreamSubscribeInput } from './stream-state-machine.js';
export { ApiClient } from './api-client.js';
export type { ApiClientOptions, ApiQuery, ApiRequestOptions, QueryValue } from './api-client.js';
export { connectHost, urlHost } from './connect-host.js';
export {
  ArcVerdictSchema,
  AuthenticationSchema,
  AuthenticationSummarySchema,
  summarizeAuthentication,
  DkimVerdictSchema,
  DmarcVerdictSchema,
  SpfVerdictSchema,
  VerdictSchema,
} from './authentication.js';
export type { ArcVerdict, Authentication, AuthenticationSummary, DkimVerdict, DmarcVerdict, SpfVerdict, Verdict } from './authentication.js';
export {
  EncryptionRecipientSchema,
  EncryptionVerdictSchema,
  IssuedKeySchema,
  KeyRegistrationSchema,
  ProtectionKindSchema,
  ProtectionSchema,
  ProtectionSummarySchema,
  RegisteredKeySchema,
  SignatureVerdictSchema,
  summarizeProtection,
} from './protection.js';
export type {
  EncryptionRecipient,
  EncryptionVerdict,
  IssuedKey,
  KeyRegistration,
  Protection,
  ProtectionKind,
  ProtectionSummary,
  RegisteredKey,
  SignatureVerdict,
} from './protection.js';
export { DNS_RECORD_TYPES, DnsRecordSchema, DnsRecordTypeSchema } from './dns-record.js';
export type { DnsRecord, DnsRecordType } from './dns-record.js';
export { nameAndAncestors, normalizeDnsName } from './dns-name.js';
export { dmarcRecord, spfAllowRecord } from './policy-records.js';
export type { DmarcPolicy, DmarcRecordOptions, SpfAllowOptions } from './policy-records.js';
export {
  FAULT_STAGES,
  FaultActionSchema,
  FaultMatchSchema,
  FaultReplySchema,
  FaultRuleSchema,
  FiredFaultSchema,
  MAX_FAULT_DELAY_MS,
  MAX_FAULT_RULES,
  MAX_RATE_WINDOW_MS,
  MAX_SLOW_REPLY_BYTE_DELAY_MS,
  RegisteredFaultRuleSchema,
  defaultFaultText,
  faultRandom,
  faults,
} from './fault-rule.js';
export type { FaultAction, FaultMatch, FaultReply, FaultRule, FaultRuleInput, FaultStage, FiredFault, RegisteredFaultRule } from './fault-rule.js';
export {
  ApiErrorSchema,
  ClientCertificateIssueSchema,
  DeletedMessagesSchema,
  DkimKeySchema,
  DnsRecordListSchema,
  DnsRecordsSchema,
  HealthSchema,
  KeyListSchema,
  ListenerInfoSchema,
  ListenerListSchema,
  MessagePageSchema,
  ServerInfoSchema,
  SessionPageSchema,
} from './api-schemas.js';
