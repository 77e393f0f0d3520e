export { Mailwright } from './mailwright.js';
export type { ConnectOptions, RuntimeListener, SmtpEndpoint } from './mailwright.js';
export { Inbox, INBOX_DOMAIN, uniqueAddress } from './inbox.js';
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
  assertHeader,
  assertNoDelivery,
  assertRecipient,
  assertSender,
  assertSubject,
} from './assertions.js';
export type { DeliveredMessage, DeliveryTarget, TlsExpectation } from './assertions.js';
export { MailwrightError, ErrorCode, isMailwrightError } from '@mailwright/core';
export type { CapturedMessage, SmtpSession, TlsInfo, MessageFilter, ListenerConfig, ListenerInfo } from '@mailwright/core';
export type { MailwrightOptions } from '@mailwright/core/options';
