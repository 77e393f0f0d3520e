/** Every error code Mailwright reports, on the wire and in thrown errors. */
export const ErrorCode = {
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  INVALID_REQUEST: 'INVALID_REQUEST',
  INVALID_FILTER: 'INVALID_FILTER',
  MESSAGE_NOT_FOUND: 'MESSAGE_NOT_FOUND',
  ATTACHMENT_NOT_FOUND: 'ATTACHMENT_NOT_FOUND',
  SESSION_NOT_FOUND: 'SESSION_NOT_FOUND',
  LISTENER_NOT_FOUND: 'LISTENER_NOT_FOUND',
  LISTENER_EXISTS: 'LISTENER_EXISTS',
  LISTENER_START_FAILED: 'LISTENER_START_FAILED',
  /** Every listener place is taken (at most 64 listeners run at once); remove one first. */
  TOO_MANY_LISTENERS: 'TOO_MANY_LISTENERS',
  /** The test CA in the data directory cannot be used (unreadable, or key and certificate do not match). */
  TLS_CA_INVALID: 'TLS_CA_INVALID',
  FILTER_REQUIRED: 'FILTER_REQUIRED',
  /** A DNS record (or a zone file) for the mock zone is invalid; `details` lists every problem. */
  INVALID_DNS_RECORD: 'INVALID_DNS_RECORD',
  /** The server asks live DNS (`--dns live`): there is no mock zone to change. */
  DNS_LIVE: 'DNS_LIVE',
  /** Verdicts are not computed on this server (`--authentication off`). */
  AUTHENTICATION_OFF: 'AUTHENTICATION_OFF',
  /** End-to-end protection is not examined on this server (`--protection off`). */
  PROTECTION_OFF: 'PROTECTION_OFF',
  /** A key or certificate given to `POST /keys` cannot be read; the message says what is wrong. */
  INVALID_KEY: 'INVALID_KEY',
  KEY_NOT_FOUND: 'KEY_NOT_FOUND',
  /** A message has no decrypted content (not encrypted, or no registered key could decrypt it). */
  NOT_DECRYPTED: 'NOT_DECRYPTED',
  /** The server was built without this feature. */
  NOT_IMPLEMENTED: 'NOT_IMPLEMENTED',
  WAIT_TIMEOUT: 'WAIT_TIMEOUT',
  CLIENT_CLOSED: 'CLIENT_CLOSED',
  /** A bounded queue is full (e.g. messages waiting to be parsed); try again shortly. */
  BUSY: 'BUSY',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN_ORIGIN: 'FORBIDDEN_ORIGIN',
  HOST_NOT_ALLOWED: 'HOST_NOT_ALLOWED',
  NOT_FOUND: 'NOT_FOUND',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The JSON body of every error response: `{ error: { code, message } }`. */
export interface ErrorBody {
  error: { code: ErrorCode | string; message: string; details?: unknown };
}

/** Options of {@link MailwrightError}. */
export interface MailwrightErrorOptions {
  cause?: unknown;
  /** HTTP status for errors that reach the REST API. */
  statusCode?: number;
  /** Structured details, e.g. the list of problems of an invalid configuration. */
  details?: unknown;
}

/** The base error: identify it by `code`, never by its message. */
export class MailwrightError extends Error {
  override name = 'MailwrightError';
  readonly code: ErrorCode;
  readonly statusCode: number | undefined;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: MailwrightErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.statusCode = options.statusCode;
    this.details = options.details;
  }
}

/** Whether a value is a {@link MailwrightError}, across package copies. */
export function isMailwrightError(value: unknown): value is MailwrightError {
  return (
    value instanceof MailwrightError || (value instanceof Error && value.name === 'MailwrightError' && typeof (value as { code?: unknown }).code === 'string')
  );
}
