export { createMailwright } from './mailwright.js';
export type { RunningMailwright } from './mailwright.js';
export { resolveMailwrightOptions, MailwrightOptionsSchema, DEFAULT_LISTENER_NAMES, isLoopbackHost } from './options.js';
export type { MailwrightOptions, ResolvedMailwrightOptions, OptionsProblem } from './options.js';
export type { Logger } from './logger.js';
export type { MessageStore, MessageStoreEvents, MessageQuery, NewMessage } from './store/message-store.js';
export { VERSION } from './version.js';
