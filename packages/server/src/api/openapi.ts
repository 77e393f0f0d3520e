import { z } from 'zod';
import {
  ApiErrorSchema,
  FaultRuleSchema,
  RegisteredFaultRuleSchema,
  AuthenticationSchema,
  CapturedMessageSchema,
  ClientCertificateIssueSchema,
  DeletedMessagesSchema,
  DkimKeySchema,
  DnsRecordListSchema,
  DnsRecordSchema,
  DnsRecordsSchema,
  IssuedKeySchema,
  KeyRegistrationSchema,
  ProtectionSchema,
  RegisteredKeySchema,
  HealthSchema,
  KeyListSchema,
  ListenerConfigSchema,
  ListenerInfoSchema,
  ListenerListSchema,
  MessageDetailSchema,
  MessageFilterSchema,
  MessagePageSchema,
  ServerInfoSchema,
  SessionPageSchema,
  SmtpSessionSchema,
} from '@mailwright/core';

/** How a route answers with success: a JSON body described by a core schema, or another media type. */
type RouteBody = { schema: z.ZodType; name: string } | { mediaType: string } | null;

/** One route of `/api/v1`, as the OpenAPI document describes it. */
export interface ApiRoute {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI path template under `/api/v1`, e.g. `/messages/{id}`. */
  path: string;
  summary: string;
  /** Query parameters (path parameters are read from the template). */
  query?: readonly string[];
  /** Whether the query takes the message filter's fields. */
  filter?: boolean;
  /** A JSON request body described by a core schema. */
  requestBody?: { schema: z.ZodType; name: string };
  status: number;
  response: RouteBody;
}

const FaultListSchema = z.object({ faults: z.array(RegisteredFaultRuleSchema) });
const FaultsDeletedSchema = z.object({ deleted: z.number().int().nonnegative() });
const json = (schema: z.ZodType, name: string) => ({ schema, name });
const FILTER_FIELDS = Object.keys(MessageFilterSchema.shape);

/** Every route of `/api/v1` with the core schema of its answer. */
export const API_ROUTES: readonly ApiRoute[] = [
  {
    method: 'get',
    path: '/messages',
    summary: 'Messages, newest first',
    query: ['limit', 'before', 'after'],
    filter: true,
    status: 200,
    response: json(MessagePageSchema, 'MessagePage'),
  },
  {
    method: 'delete',
    path: '/messages',
    summary: 'Delete the matching messages (all=true for every one)',
    query: ['all'],
    filter: true,
    status: 200,
    response: json(DeletedMessagesSchema, 'DeletedMessages'),
  },
  {
    method: 'get',
    path: '/messages/wait',
    summary: 'Long-poll for the first matching message with seq > after',
    query: ['after', 'timeout'],
    filter: true,
    status: 200,
    response: json(CapturedMessageSchema, 'CapturedMessage'),
  },
  {
    method: 'get',
    path: '/messages/{id}',
    summary: 'One message with its parsed content',
    query: ['view'],
    status: 200,
    response: json(MessageDetailSchema, 'MessageDetail'),
  },
  {
    method: 'post',
    path: '/messages/{id}/authentication',
    summary: 'Compute the verdicts anew',
    status: 200,
    response: json(AuthenticationSchema, 'Authentication'),
  },
  {
    method: 'post',
    path: '/messages/{id}/protection',
    summary: 'Examine the protection anew with the keys registered now',
    status: 200,
    response: json(ProtectionSchema, 'Protection'),
  },
  { method: 'delete', path: '/messages/{id}', summary: 'Delete one message', status: 204, response: null },
  {
    method: 'get',
    path: '/messages/{id}/raw',
    summary: 'The exact bytes received',
    query: ['download'],
    status: 200,
    response: { mediaType: 'message/rfc822' },
  },
  { method: 'get', path: '/messages/{id}/html', summary: 'The HTML body, scripts blocked', query: ['view'], status: 200, response: { mediaType: 'text/html' } },
  { method: 'get', path: '/messages/{id}/text', summary: 'The text body', query: ['view'], status: 200, response: { mediaType: 'text/plain' } },
  {
    method: 'get',
    path: '/messages/{id}/attachments/{partId}',
    summary: 'One attachment',
    query: ['view'],
    status: 200,
    response: { mediaType: 'application/octet-stream' },
  },
  {
    method: 'get',
    path: '/messages/{id}/session',
    summary: 'The SMTP session that carried the message',
    status: 200,
    response: json(SmtpSessionSchema, 'SmtpSession'),
  },
  {
    method: 'get',
    path: '/sessions',
    summary: 'SMTP sessions, newest first',
    query: ['limit', 'listener', 'cursor'],
    status: 200,
    response: json(SessionPageSchema, 'SessionPage'),
  },
  { method: 'get', path: '/sessions/{id}', summary: 'One SMTP session', status: 200, response: json(SmtpSessionSchema, 'SmtpSession') },
  {
    method: 'get',
    path: '/listeners',
    summary: 'Every listener with its real port and TLS policy',
    status: 200,
    response: json(ListenerListSchema, 'ListenerList'),
  },
  {
    method: 'post',
    path: '/listeners',
    summary: 'Add a listener at runtime',
    requestBody: json(ListenerConfigSchema, 'ListenerConfig'),
    status: 201,
    response: json(ListenerInfoSchema, 'ListenerInfo'),
  },
  { method: 'delete', path: '/listeners/{name}', summary: 'Stop and remove a listener', status: 204, response: null },
  { method: 'get', path: '/tls/ca.pem', summary: 'The test CA certificate', status: 200, response: { mediaType: 'application/x-pem-file' } },
  {
    method: 'get',
    path: '/tls/intermediate.pem',
    summary: 'The intermediate CA of the incomplete-chain certificate',
    status: 200,
    response: { mediaType: 'application/x-pem-file' },
  },
  {
    method: 'post',
    path: '/tls/client-certificates',
    summary: 'Issue a client certificate for mTLS ({ commonName })',
    status: 201,
    response: json(ClientCertificateIssueSchema, 'ClientCertificateIssue'),
  },
  { method: 'get', path: '/dns/records', summary: 'Every record of the DNS zone', status: 200, response: json(DnsRecordListSchema, 'DnsRecordList') },
  {
    method: 'put',
    path: '/dns/records',
    summary: 'Replace the records of each name and type given',
    requestBody: json(z.union([DnsRecordSchema, z.array(DnsRecordSchema)]), 'DnsRecordInput'),
    status: 200,
    response: json(DnsRecordsSchema, 'DnsRecords'),
  },
  { method: 'delete', path: '/dns/records', summary: 'Delete the records of a name (and type)', query: ['name', 'type'], status: 204, response: null },
  {
    method: 'post',
    path: '/dkim/keys',
    summary: 'Create a DKIM key ({ domain, selector, algorithm? }) and publish its record',
    status: 201,
    response: json(DkimKeySchema, 'DkimKey'),
  },
  { method: 'get', path: '/keys', summary: 'Keys registered for end-to-end protection', status: 200, response: json(KeyListSchema, 'KeyList') },
  {
    method: 'post',
    path: '/keys',
    summary: 'Register a key',
    requestBody: json(KeyRegistrationSchema, 'KeyRegistration'),
    status: 201,
    response: json(RegisteredKeySchema, 'RegisteredKey'),
  },
  { method: 'delete', path: '/keys/{id}', summary: 'Remove a registered key', status: 204, response: null },
  {
    method: 'post',
    path: '/keys/smime',
    summary: 'Issue and register an S/MIME certificate ({ address, keyType? })',
    status: 201,
    response: json(IssuedKeySchema, 'IssuedKey'),
  },
  {
    method: 'post',
    path: '/keys/pgp',
    summary: 'Generate and register an OpenPGP key ({ address, name?, passphrase? })',
    status: 201,
    response: json(IssuedKeySchema, 'IssuedKey'),
  },
  { method: 'get', path: '/faults', summary: 'Every fault rule, in the order added', status: 200, response: json(FaultListSchema, 'FaultList') },
  {
    method: 'post',
    path: '/faults',
    summary: 'Add a rule (→ the rule) or a list of rules (→ { faults }), all or none',
    requestBody: json(FaultRuleSchema, 'FaultRule'),
    status: 201,
    response: json(z.union([RegisteredFaultRuleSchema, FaultListSchema]), 'AddedFaults'),
  },
  { method: 'delete', path: '/faults', summary: 'Remove every fault rule', status: 200, response: json(FaultsDeletedSchema, 'FaultsDeleted') },
  {
    method: 'get',
    path: '/faults/{id}',
    summary: 'One fault rule with its counts',
    status: 200,
    response: json(RegisteredFaultRuleSchema, 'RegisteredFaultRule'),
  },
  { method: 'delete', path: '/faults/{id}', summary: 'Remove a fault rule', status: 204, response: null },
  { method: 'get', path: '/info', summary: 'Version, listeners, limits and AUTH mode', status: 200, response: json(ServerInfoSchema, 'ServerInfo') },
  { method: 'get', path: '/health', summary: '200 when every listener accepts connections, else 503', status: 200, response: json(HealthSchema, 'Health') },
  { method: 'get', path: '/openapi.json', summary: 'This document', status: 200, response: { mediaType: 'application/json' } },
];

const QUERY_SCHEMAS: Record<string, object> = {
  limit: { type: 'integer', minimum: 1, maximum: 1000 },
  before: { type: 'integer', minimum: 0 },
  after: { type: 'integer', minimum: 0 },
  timeout: { type: 'integer', minimum: 0, maximum: 60000 },
  all: { type: 'string', enum: ['true', 'false'] },
  download: { type: 'string', enum: ['true', 'false'] },
  view: { type: 'string', enum: ['decrypted'] },
};

const ERROR_RESPONSE = { description: 'An error', content: { 'application/json': { schema: { $ref: '#/components/schemas/ApiError' } } } };

/** JSON Schema (draft 2020-12, what OpenAPI 3.1 uses) of every named schema, as `components.schemas`. */
function componentSchemas(): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  const add = (schema: z.ZodType, id: string) => {
    if (!registry.has(schema)) registry.add(schema, { id });
  };
  add(ApiErrorSchema, 'ApiError');
  for (const route of API_ROUTES) if (route.response && 'schema' in route.response) add(route.response.schema, route.response.name);
  // What the server accepts is described as zod reads it (defaults optional), what it answers as zod writes it.
  const inputs = z.registry<{ id: string }>();
  inputs.add(MessageFilterSchema, { id: 'MessageFilter' });
  for (const route of API_ROUTES)
    if (route.requestBody && !inputs.has(route.requestBody.schema)) inputs.add(route.requestBody.schema, { id: route.requestBody.name });
  const options = { target: 'draft-2020-12', unrepresentable: 'any', uri: (id: string) => `#/components/schemas/${id}` } as const;
  const schemas = { ...z.toJSONSchema(registry, { ...options, io: 'output' }).schemas, ...z.toJSONSchema(inputs, { ...options, io: 'input' }).schemas };
  // Named by their place in the document, not by an $id of their own.
  for (const schema of Object.values(schemas)) {
    delete (schema as { $schema?: string }).$schema;
    delete (schema as { $id?: string }).$id;
  }
  return schemas;
}

function operation(route: ApiRoute): Record<string, unknown> {
  const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => ({ name: match[1], in: 'path', required: true, schema: { type: 'string' } }));
  const queryParameters = (route.query ?? []).map((name) => ({ name, in: 'query', required: false, schema: QUERY_SCHEMAS[name] ?? { type: 'string' } }));
  const filterParameters = route.filter
    ? FILTER_FIELDS.map((name) => ({ name, in: 'query', required: false, schema: { $ref: `#/components/schemas/MessageFilter/properties/${name}` } }))
    : [];
  const parameters = [...pathParameters, ...queryParameters, ...filterParameters];
  const success =
    route.response === null
      ? { description: 'Done' }
      : 'schema' in route.response
        ? { description: route.summary, content: { 'application/json': { schema: { $ref: `#/components/schemas/${route.response.name}` } } } }
        : { description: route.summary, content: { [route.response.mediaType]: { schema: { type: 'string' } } } };
  return {
    operationId: `${route.method}${route.path.replace(/\{(\w+)\}/g, 'By-$1').replace(/[^A-Za-z0-9]+(.)?/g, (_match, next?: string) => (next ?? '').toUpperCase())}`,
    summary: route.summary,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.requestBody
      ? { requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${route.requestBody.name}` } } } } }
      : {}),
    responses: {
      [String(route.status)]: success,
      ...(route.path === '/health' ? { '503': success } : {}),
      default: ERROR_RESPONSE,
    },
  };
}

/** The OpenAPI 3.1 document of `/api/v1`, built from {@link API_ROUTES} and the core zod schemas. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of API_ROUTES) (paths[route.path] ??= {})[route.method] = operation(route);
  return {
    openapi: '3.1.0',
    info: { title: 'Mailwright API', version, description: 'The REST API of Mailwright. See docs/api.md.' },
    servers: [{ url: '/api/v1' }],
    // Required only when the server runs with --api-token.
    security: [{}, { bearerToken: [] }, { tokenQuery: [] }],
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        bearerToken: { type: 'http', scheme: 'bearer', description: 'The --api-token, as `Authorization: Bearer <token>`' },
        tokenQuery: { type: 'apiKey', in: 'query', name: 'token', description: 'The --api-token, as `?token=`' },
      },
    },
  };
}
