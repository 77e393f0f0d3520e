import express, { type Router } from 'express';
import { ErrorCode, KeyRegistrationSchema, type IssuedKey, type KeyRegistration, type Protection, type RegisteredKey } from '@mailwright/core';
import { httpError } from './http-error.js';

/** Bodies of `/keys`: a few PEM certificates and keys fit. */
const KEYS_BODY_LIMIT = '1mb';

const SMIME_KEY_TYPES = ['rsa-2048', 'rsa-3072', 'ecdsa-p256'] as const;
type SmimeKeyType = (typeof SMIME_KEY_TYPES)[number];
const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;

/** What the key and protection routes need from the engine. */
export interface ProtectionApiContext {
  keys: {
    register(registration: KeyRegistration): Promise<RegisteredKey>;
    list(): RegisteredKey[];
    delete(id: string): boolean;
  };
  /** Issues an S/MIME certificate from the test CA for an address and registers it. */
  issueSmime(address: string, keyType: SmimeKeyType): Promise<IssuedKey>;
  /** Generates an OpenPGP key for an address and registers it; null when this build cannot. */
  generatePgp: ((address: string, options: { name?: string; passphrase?: string }) => Promise<IssuedKey>) | null;
  /** Examines a message again with the current keys; null when it is gone; absent with `--protection off`. */
  reexamine: ((id: string) => Promise<Protection | null>) | null;
}

/** Reads the string fields of a JSON body: `address` required, the others optional; unknown fields and wrong types are refused. */
function fields<K extends string>(body: unknown, optional: readonly K[]): { address: string } & Partial<Record<K, string>> {
  const record = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const problems: string[] = [];
  for (const [name, value] of Object.entries(record)) {
    if (name !== 'address' && !(optional as readonly string[]).includes(name)) problems.push(`unknown field "${name}"`);
    else if (typeof value !== 'string' || value.length > 1000) problems.push(`"${name}" must be a string of at most 1000 characters`);
  }
  if (typeof record.address !== 'string' || !ADDRESS.test(record.address)) problems.push('"address" must be an e-mail address');
  if (problems.length > 0) throw httpError(400, ErrorCode.INVALID_REQUEST, problems.join('; '));
  return record as { address: string } & Partial<Record<K, string>>;
}

/**
 * The routes of keys for end-to-end protection (`/keys`, `/keys/smime`, `/keys/pgp`) and of
 * examining a message again (`POST /messages/:id/protection`). Private halves are accepted and
 * returned once on issuance, never listed.
 */
export function createProtectionRouter(context: ProtectionApiContext): Router {
  const router = express.Router();
  router.use('/keys', express.json({ limit: KEYS_BODY_LIMIT }));

  router.get('/keys', (_request, response) => {
    response.json({ keys: context.keys.list() });
  });

  router.post('/keys/smime', async (request, response) => {
    const { address, keyType } = fields(request.body, ['keyType']);
    if (keyType !== undefined && !(SMIME_KEY_TYPES as readonly string[]).includes(keyType)) {
      throw httpError(400, ErrorCode.INVALID_REQUEST, `"keyType" must be one of ${SMIME_KEY_TYPES.join(', ')}`);
    }
    response.status(201).json(await context.issueSmime(address, (keyType as SmimeKeyType | undefined) ?? 'rsa-2048'));
  });

  router.post('/keys/pgp', async (request, response) => {
    const { address, name, passphrase } = fields(request.body, ['name', 'passphrase']);
    if (!context.generatePgp) throw httpError(501, ErrorCode.NOT_IMPLEMENTED, 'OpenPGP key generation is not available in this build');
    response
      .status(201)
      .json(await context.generatePgp(address, { ...(name === undefined ? {} : { name }), ...(passphrase === undefined ? {} : { passphrase }) }));
  });

  router.post('/keys', async (request, response) => {
    const parsed = KeyRegistrationSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      throw httpError(400, ErrorCode.INVALID_KEY, parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '));
    }
    response.status(201).json(await context.keys.register(parsed.data));
  });

  router.delete('/keys/:id', (request, response) => {
    if (!context.keys.delete(request.params.id)) throw httpError(404, ErrorCode.KEY_NOT_FOUND, `No key with id "${request.params.id}"`);
    response.status(204).end();
  });

  router.post('/messages/:id/protection', async (request, response) => {
    if (!context.reexamine) throw httpError(409, ErrorCode.PROTECTION_OFF, 'Protection is not examined on this server (--protection off)');
    const protection = await context.reexamine(request.params.id);
    if (!protection) throw httpError(404, ErrorCode.MESSAGE_NOT_FOUND, `No message with id "${request.params.id}"`);
    response.json(protection);
  });

  return router;
}
