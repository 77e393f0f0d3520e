export {
  MailwrightContainer,
  StartedMailwrightContainer,
  MAILWRIGHT_IMAGE,
  MAILWRIGHT_SMTP_PORT,
  MAILWRIGHT_SMTPS_PORT,
  MAILWRIGHT_HTTP_PORT,
  MAILWRIGHT_STARTUP_TIMEOUT_MS,
} from './mailwright-container.js';
export type { AuthPolicy, AuthUser, StarttlsPolicy } from './mailwright-container.js';
