import express, { type Router } from 'express';
import { ErrorCode, type Authentication, type DnsRecord } from '@mailwright/core';
import { DKIM_KEY_ALGORITHMS, createDkimKey, type DkimKeyAlgorithm } from '../dns/create-dkim-key.js';
import type { DnsZone } from '../dns/dns-zone.js';
import type { DnsRecordInput } from '../dns/dns-record-value.js';
import { httpError } from './http-error.js';

/** Bodies of `PUT /dns/records`: a 16 KB TXT record, or a list of many, fits. */
const DNS_BODY_LIMIT = '4mb';
/** The most records one `PUT /dns/records` sets. */
export const MAX_RECORDS_PER_PUT = 10_000;

/** What the DNS and authentication routes need from the engine. */
export interface DnsApiContext {
  /** `mock`: the zone answers every query and may be changed; `live`: it is not consulted. */
  mode: 'mock' | 'live';
  zone: DnsZone;
  /** Computes a message's verdicts anew; null when the message is gone (or verification is off: see `enabled`). */
  recompute(id: string): Promise<Authentication | null>;
  /** Whether verdicts are computed at all (`--authentication on`). */
  authenticationEnabled: boolean;
}

function requireMockZone(context: DnsApiContext): void {
  if (context.mode === 'live') {
    throw httpError(409, ErrorCode.DNS_LIVE, 'The server asks live DNS (--dns live): there is no mock zone to change');
  }
}

function stringField(body: Record<string, unknown>, name: string, required: boolean): string | undefined {
  const value = body[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value === '') throw httpError(400, ErrorCode.INVALID_REQUEST, `"${name}" must be a non-empty string`);
  return value;
}

/**
 * The routes of the mock DNS zone (`/dns/records`), of test DKIM keys (`/dkim/keys`) and of
 * recomputing a message's verdicts (`POST /messages/:id/authentication`).
 */
export function createDnsRouter(context: DnsApiContext): Router {
  const { zone } = context;
  const router = express.Router();
  router.use(['/dns', '/dkim'], express.json({ limit: DNS_BODY_LIMIT }));

  router.get('/dns/records', (_request, response) => {
    response.json({ mode: context.mode, records: zone.records() });
  });

  router.put('/dns/records', (request, response) => {
    requireMockZone(context);
    const body: unknown = request.body;
    const list = Array.isArray(body)
      ? body
      : Array.isArray((body as { records?: unknown } | null)?.records)
        ? (body as { records: unknown[] }).records
        : [body];
    if (list.length === 0) throw httpError(400, ErrorCode.INVALID_REQUEST, 'Give a record { name, type, value } or a list of them');
    if (list.length > MAX_RECORDS_PER_PUT) throw httpError(400, ErrorCode.INVALID_REQUEST, `At most ${MAX_RECORDS_PER_PUT} records per request`);
    // put() checks every record first and lists every problem (400 INVALID_DNS_RECORD); nothing changes unless all are valid.
    const written = zone.put(list as DnsRecordInput[]);
    const names = [...new Set(written.map((record) => record.name))];
    const records: DnsRecord[] = names.flatMap((name) => zone.get(name));
    response.json({ records });
  });

  router.delete('/dns/records', (request, response) => {
    requireMockZone(context);
    const name = typeof request.query.name === 'string' ? request.query.name : '';
    const type = typeof request.query.type === 'string' && request.query.type !== '' ? request.query.type : undefined;
    if (name === '') throw httpError(400, ErrorCode.INVALID_REQUEST, '"name" is required (and "type" is optional)');
    zone.delete(name, type);
    response.status(204).end();
  });

  router.post('/dkim/keys', async (request, response) => {
    requireMockZone(context);
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
    const domain = stringField(body, 'domain', true) as string;
    const selector = stringField(body, 'selector', true) as string;
    const algorithm = (stringField(body, 'algorithm', false) ?? 'rsa-2048') as DkimKeyAlgorithm;
    if (!DKIM_KEY_ALGORITHMS.includes(algorithm)) {
      throw httpError(400, ErrorCode.INVALID_REQUEST, `"algorithm" must be one of ${DKIM_KEY_ALGORITHMS.join(', ')}`);
    }
    let key;
    try {
      key = await createDkimKey({ domain, selector, algorithm });
    } catch (error) {
      throw httpError(400, ErrorCode.INVALID_REQUEST, (error as Error).message);
    }
    zone.put([key.record]);
    // The private key lives in this response only: it is neither kept nor logged.
    response.status(201).json({
      domain: key.domain,
      selector: key.selector,
      algorithm: key.algorithm,
      privateKey: key.privateKey,
      record: key.record,
      dkim: key.nodemailer,
    });
  });

  router.post('/messages/:id/authentication', async (request, response) => {
    if (!context.authenticationEnabled) {
      throw httpError(409, ErrorCode.AUTHENTICATION_OFF, 'Verdicts are not computed on this server (--authentication off)');
    }
    const id = request.params.id;
    const authentication = await context.recompute(id);
    if (!authentication) throw httpError(404, ErrorCode.MESSAGE_NOT_FOUND, `No message with id "${id}"`);
    response.json(authentication);
  });

  return router;
}
