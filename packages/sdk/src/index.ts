export { Mailwright } from './mailwright.js';
export type { ConnectOptions, DkimKey, DkimKeyAlgorithm, RuntimeListener, SmimeKeyType, SmtpEndpoint } from './mailwright.js';
export type { DnsChange, DnsClient } from './dns-client.js';
export { Inbox, INBOX_DOMAIN, uniqueAddress } from './inbox.js';
export { FaultClient } from './fault-client.js';
export type { FaultHandle, InboxFailure } from './fault-client.js';
export { assertArrivedOnce, assertRetried } from './fault-assertions.js';
export type { RetriedMessage, RetryExpectation } from './fault-assertions.js';
export { faults } from '@mailwright/core';
export type { FaultRuleInput, FaultStage, FiredFault, RegisteredFaultRule } from '@mailwright/core';
export type { SmtpTransportOptions, TransportOptionsInput } from './transport-options.js';
export type { MessageFilterInput } from './message-filter-input.js';
export type { ReceivedMessage } from './received-message.js';
export type { WaitOptions } from './wait-for-messages.js';
export type { SessionWaitOptions } from './wait-for-session.js';
export {
  assertAttachment,
  assertAuthenticated,
  assertClientCertificate,
  assertContainsLink,
  assertContainsText,
  assertCredentialsSentOverTls,
  assertDeliveredInPlaintext,
  assertDeliveredOverTls,
  assertFailedTls,
  assertFailsDkim,
  assertHeader,
  assertNoDelivery,
  assertPassesDkim,
  assertPassesDmarc,
  assertPassesSpf,
  assertRecipient,
  assertSender,
  assertSubject,
} from './assertions.js';
export type {
  AuthenticatedMessage,
  DeliveredMessage,
  DeliveryTarget,
  DkimFailExpectation,
  DkimPassExpectation,
  DmarcPassExpectation,
  SpfPassExpectation,
  TlsExpectation,
  VerdictWaitOptions,
} from './assertions.js';
export { assertEncrypted, assertSigned, assertSignedThenEncrypted } from './protection-assertions.js';
export type { EncryptedExpectation, ProtectedMessage, ProtectionKindExpectation, ProtectionWaitOptions, SignedExpectation } from './protection-assertions.js';
export { MailwrightError, ErrorCode, isMailwrightError } from '@mailwright/core';
export { dmarcRecord, spfAllowRecord } from '@mailwright/core';
export type {
  Authentication,
  CapturedMessage,
  DkimVerdict,
  DmarcPolicy,
  DmarcRecordOptions,
  DmarcVerdict,
  DnsRecord,
  DnsRecordType,
  EncryptionRecipient,
  EncryptionVerdict,
  IssuedKey,
  KeyRegistration,
  Protection,
  ProtectionKind,
  ProtectionSummary,
  RegisteredKey,
  SignatureVerdict,
  ListenerConfig,
  ListenerInfo,
  MessageFilter,
  SmtpSession,
  SpfAllowOptions,
  SpfVerdict,
  TlsInfo,
  Verdict,
} from '@mailwright/core';
export type { MailwrightOptions } from '@mailwright/core/options';
