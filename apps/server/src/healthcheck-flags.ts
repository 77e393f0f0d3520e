import { envNameOf, type FlagSpec } from './flag-spec.js';

/** Flags of `mailwright healthcheck`. */
export const HEALTHCHECK_FLAGS: readonly FlagSpec[] = [
  {
    name: 'url',
    type: 'string',
    value: '<url>',
    description: 'Base URL of the server to check',
    defaultText: `http://<${envNameOf('host')} or 127.0.0.1>:<${envNameOf('http-port')} or 8025>`,
    env: envNameOf('healthcheck-url'),
  },
  {
    name: 'timeout',
    type: 'string',
    value: '<ms>',
    description: 'How long to wait for the answer, in milliseconds',
    defaultText: '3000',
    env: envNameOf('healthcheck-timeout'),
  },
  { name: 'help', short: 'h', type: 'boolean', description: 'Show this help and exit', env: null },
];
