import express, { type Router } from 'express';
import { ErrorCode } from '@mailwright/core';
import type { FaultRegistry } from '../faults/fault-registry.js';
import { httpError } from './http-error.js';

/** Bodies of `POST /faults`: a list of many rules fits (and a list over the cap gets its own 400, not a 413). */
const FAULTS_BODY_LIMIT = '8mb';

/**
 * The fault rules' routes: `GET /faults`, `POST /faults` (one rule, a list, or `{ rules }`),
 * `GET /faults/:id`, `DELETE /faults/:id`, `DELETE /faults` (every rule).
 */
export function createFaultsRouter(registry: FaultRegistry): Router {
  const router = express.Router();
  router.use('/faults', express.json({ limit: FAULTS_BODY_LIMIT }));

  router.get('/faults', (_request, response) => {
    response.json({ faults: registry.list() });
  });

  router.post('/faults', (request, response) => {
    const body: unknown = request.body;
    const many = Array.isArray(body) || Array.isArray((body as { rules?: unknown } | null)?.rules);
    const list: unknown[] = Array.isArray(body) ? body : many ? (body as { rules: unknown[] }).rules : [body];
    if (list.length === 0 || typeof list[0] !== 'object' || list[0] === null) {
      throw httpError(
        400,
        ErrorCode.INVALID_REQUEST,
        'Send a fault rule as a JSON object, e.g. {"at":"rcpt","action":{"reply":{"code":451}}}, or a list of them',
      );
    }
    const added = registry.add(list);
    response.status(201).json(many ? { faults: added } : added[0]);
  });

  router.get('/faults/:id', (request, response) => {
    const rule = registry.get(request.params.id);
    if (!rule) throw httpError(404, ErrorCode.FAULT_NOT_FOUND, `No fault rule with id "${request.params.id}"`);
    response.json(rule);
  });

  router.delete('/faults/:id', (request, response) => {
    if (!registry.remove(request.params.id)) throw httpError(404, ErrorCode.FAULT_NOT_FOUND, `No fault rule with id "${request.params.id}"`);
    response.status(204).end();
  });

  router.delete('/faults', (_request, response) => {
    response.json({ deleted: registry.clear() });
  });
  return router;
}
