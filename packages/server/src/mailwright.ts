import http from 'node:http';
import type net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import {
  ErrorCode,
  MailwrightError,
  connectHost,
  isMailwrightError,
  urlHost,
  type IssuedKey,
  type ListenerConfig,
  type ListenerInfo,
  type ServerInfo,
} from '@mailwright/core';
import { resolveMailwrightOptions, type MailwrightOptions, type ResolvedMailwrightOptions } from './options.js';
import { silentLogger, type Logger } from './logger.js';
import { createMemoryStore } from './store/memory-store.js';
import { openSqliteStore } from './store/sqlite-store.js';
import { summarizeOffThread } from './analysis/parse-message.js';
import { contentReader } from './analysis/content-reader.js';
import { createParsePool } from './analysis/parse-pool.js';
import type { MessageStore } from './store/message-store.js';
import { loadTestAuthority, type TestAuthority } from './tls/test-authority.js';
import type { CaptureContext, StartedCaptureListener } from './smtp/capture-listener.js';
import { createListenerRegistry } from './listener-registry.js';
import { ConnectionLimits } from './smtp/connection-limits.js';
import { bindError } from './bind-error.js';
import { checkRuntimeListener } from './runtime-listener-policy.js';
import { createApiRouter } from './api/create-api.js';
import { errorMiddleware } from './api/http-error.js';
import { limitHttpConnections } from './api/limit-http-connections.js';
import { serveWeb } from './api/serve-web.js';
import { allowedHostNames, apiCors, apiHeaders, requireAllowedHost, requireToken, securityHeaders, type AccessPolicy } from './api/access-control.js';
import { attachStreamHub } from './api/stream-hub.js';
import { compatibilityUrls, mountCompatibility } from './api/compat/mount-compatibility.js';
import { readMessageDetail } from './api/message-detail.js';
import { VERSION } from './version.js';
import { createDnsRouter } from './api/dns-api.js';
import { createFaultsRouter } from './api/faults-api.js';
import { FaultRegistry } from './faults/fault-registry.js';
import { DnsZone } from './dns/dns-zone.js';
import { loadZoneFile } from './dns/zone-file.js';
import { createZoneResolver } from './dns/zone-resolver.js';
import { createLiveResolver } from './dns/live-resolver.js';
import type { DnsResolver } from './dns/dns-resolver.js';
import { AUTHENTICATION_TIMEOUT_MS } from './analysis/compute-authentication.js';
import { PENDING_AUTHENTICATION, createAuthenticationJobs, type AuthenticationJobs } from './analysis/authentication-jobs.js';
import { DEFAULT_PROTECTION_LIMITS, NO_PROTECTION_SUMMARY, PENDING_PROTECTION_SUMMARY, needsExamination } from './analysis/protection/examine-protection.js';
import { createProtectionJobs, type ProtectionJobs } from './analysis/protection/protection-jobs.js';
import { createKeyRegistry, type KeyRegistry } from './analysis/protection/key-registry.js';
import { generatePgpKey } from './analysis/protection/generate-pgp-key.js';
import { createProtectionRouter } from './api/protection-api.js';
import { createServerMetrics } from './server-metrics.js';

const HTTP_CLOSE_TIMEOUT_MS = 2_000;
/** The message database in the data directory (`storage: 'sqlite'`). */
export const SQLITE_FILE_NAME = 'mailwright.db';
/**
 * Verdict workers: one per CPU beyond the one SMTP and HTTP run on, at most two (each holds
 * mailauth and its own heap, about 35 MB).
 */
const VERDICT_WORKERS = Math.max(1, Math.min(2, availableParallelism() - 1));
/** The nice value of the verdict workers' threads. */
const VERDICT_WORKER_NICENESS = 10;
/** A verdict worker idle this long is ended, so that a server at rest gives its memory back. */
const VERDICT_WORKER_IDLE_MS = 2_000;
/**
 * The young generation of a verdict worker, in MB: what one message's checks leave is small,
 * and a worker with 2 MB takes about 4 MB less memory than one with the parse workers' 4 MB.
 */
const VERDICT_WORKER_YOUNG_HEAP_MB = 2;

/** A running Mailwright server. */
export interface RunningMailwright extends AsyncDisposable {
  /** The options in force. */
  readonly options: ResolvedMailwrightOptions;
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:8025`. */
  readonly url: string;
  /** The real HTTP port. */
  readonly httpPort: number;
  /** The `smtp` listener (plaintext, STARTTLS). */
  readonly smtp: { host: string; port: number };
  /** The `smtps` listener (implicit TLS). */
  readonly smtps: { host: string; port: number };
  /** The test CA certificate (PEM) clients should trust. */
  readonly ca: string;
  /** The message store. */
  readonly store: MessageStore;
  /** The fault rules the listeners apply (also served by `/api/v1/faults`). */
  readonly faults: FaultRegistry;
  /** The mock DNS zone (consulted unless `dns` is `live`). */
  readonly dnsZone: DnsZone;
  /** What `GET /api/v1/info` serves. */
  info(): ServerInfo;
  /** Every listener with its real port. */
  listeners(): ListenerInfo[];
  /** Adds a listener at runtime (the TLS lab). */
  addListener(config: ListenerConfig): Promise<ListenerInfo>;
  /** Stops and removes a listener; false when there was none. */
  removeListener(name: string): Promise<boolean>;
  /** Stops accepting, drains within a bounded time, then closes everything. */
  close(): Promise<void>;
}

/** Starts listeners, the store and the HTTP API. Throws `INVALID_OPTIONS` listing every problem. */
export async function createMailwright(input: MailwrightOptions = {}): Promise<RunningMailwright> {
  const options = resolveMailwrightOptions(input);
  const logger: Logger = options.logger === false ? silentLogger : options.logger;
  const temporaryDir = options.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'mailwright-')) : null;
  const dataDir = options.dataDir ?? (temporaryDir as string);
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const step of cleanups.reverse()) await step().catch((error: unknown) => logger.warn({ err: error }, 'cleanup step failed'));
    if (temporaryDir) await rm(temporaryDir, { recursive: true, force: true });
  };

  try {
    // A zone file with mistakes is a configuration problem: each one listed, with its line.
    const dnsZone =
      options.dnsZone === undefined
        ? new DnsZone()
        : await loadZoneFile(options.dnsZone).catch((error: unknown) => {
            throw zoneFileOptionsError(error, options.dnsZone as string);
          });
    const dnsResolver: DnsResolver =
      options.dns === 'live' ? createLiveResolver({ timeoutMs: options.dnsTimeoutMs, servers: options.dnsServers }) : createZoneResolver(dnsZone);
    const authority: TestAuthority = await loadTestAuthority({ dataDir, hostnames: [options.hostname, ...options.tlsNames] });
    const customCertificate = options.tlsCert !== undefined && options.tlsKey !== undefined ? { cert: options.tlsCert, key: options.tlsKey } : null;
    // Message views parse in worker threads: a large message must not stall SMTP and /health.
    const parsePool = createParsePool({ onParsed: (threadId) => logger.debug({ threadId }, 'message parsed in a worker thread') });
    cleanups.push(() => parsePool.close());
    // Verdicts have workers of their own: background work at a lower CPU priority, so that a
    // burst of mail is taken at full speed and checked as the CPU allows; ended when idle.
    const verdictPool = createParsePool({
      workers: VERDICT_WORKERS,
      niceness: VERDICT_WORKER_NICENESS,
      idleMs: VERDICT_WORKER_IDLE_MS,
      youngHeapMb: VERDICT_WORKER_YOUNG_HEAP_MB,
    });
    cleanups.push(() => verdictPool.close());
    const summarize = (raw: Buffer) =>
      summarizeOffThread(raw, parsePool.summarize, (error) => logger.warn({ err: error }, 'a message was summarized from its headers alone'));
    // A parse that failed in its worker (it ran out of time or memory) is shown like any unparsable message; a full queue is a 503.
    const readContent = contentReader(parsePool, (error) => logger.warn({ err: error }, 'a message could not be parsed'));
    const store =
      options.storage === 'sqlite'
        ? openSqliteStore({
            path: join(dataDir, SQLITE_FILE_NAME),
            maxMessages: options.maxMessages,
            maxAge: options.maxAge,
            maxBytes: options.maxBytes,
            maxSessions: options.maxSessions,
            summarize,
            readContent,
            logger,
          })
        : createMemoryStore({
            // Mail nobody follows is taken at the speed of storing its bytes and read when asked for.
            readPolicy: 'when-followed',
            maxMessages: options.maxMessages,
            maxSessions: options.maxSessions,
            maxMemoryBytes: options.maxMemory,
            summarize,
            readContent,
          });
    cleanups.push(() => store.close());
    // Verdicts are computed after the 250, in the parse workers: the SMTP side stores the
    // message (pending) and goes on; the job reads its inputs when its turn comes.
    let listenersRef: { get(name: string): StartedCaptureListener | undefined } | null = null;
    const authentication: AuthenticationJobs | null =
      options.authentication === 'on'
        ? createAuthenticationJobs({
            store,
            pool: verdictPool,
            resolver: dnsResolver,
            dnsCacheKey: () => (options.dns === 'mock' ? `zone@${dnsZone.revision}` : null),
            authservId: options.hostname,
            listener: (name) => {
              const info = listenersRef?.get(name)?.info;
              return info ? { clientIp: info.clientIp ?? null } : undefined;
            },
            timeoutMs: AUTHENTICATION_TIMEOUT_MS,
            // Live DNS may keep a check waiting for seconds: then one message is checked at a time.
            concurrency: options.dns === 'live' ? 1 : 2,
            maxQueue: options.maxMessages,
            logger,
          })
        : null;
    // Keys for end-to-end protection live in memory only; the test CA is a trust anchor.
    const keyRegistry = createKeyRegistry({ caPem: authority.caPem });
    // Protection is examined after the 250 too, in the same workers; mail that shows no sign of
    // it (a byte scan, here for mail up to 1 MiB) is stored with the shared `none` summary and never queued.
    const protection: ProtectionJobs | null =
      options.protection === 'on'
        ? createProtectionJobs({
            store,
            pool: verdictPool,
            keys: () => keyRegistry.material(),
            limits: DEFAULT_PROTECTION_LIMITS,
            maxQueue: options.maxMessages,
            logger,
          })
        : null;
    const captureStore: MessageStore =
      authentication || protection
        ? Object.assign(Object.create(store) as MessageStore, {
            async addMessage(message: Parameters<MessageStore['addMessage']>[0]) {
              const examine = protection !== null && needsExamination(message.raw);
              const added = await store.addMessage({
                ...message,
                ...(authentication ? { authentication: PENDING_AUTHENTICATION } : {}),
                ...(protection ? { protection: examine ? PENDING_PROTECTION_SUMMARY : NO_PROTECTION_SUMMARY } : {}),
              });
              authentication?.schedule({ id: added.id, mailFrom: message.envelope.mailFrom, sessionId: message.sessionId, listener: message.listener });
              if (examine) protection.schedule(added.id);
              return added;
            },
          })
        : store;
    let streamRef: { clientCount(): number } | null = null;
    const metrics = createServerMetrics({
      stored: () => store.stored(),
      streamSubscribers: () => streamRef?.clientCount() ?? 0,
    });
    const faults = new FaultRegistry();
    try {
      faults.add(options.faults);
    } catch (error) {
      throw new MailwrightError(ErrorCode.INVALID_OPTIONS, `Invalid options: faults: ${(error as Error).message}`, {
        cause: error,
        details: [{ path: 'faults', message: (error as Error).message }],
      });
    }
    const captureContext: CaptureContext = {
      store: captureStore,
      authority,
      customCertificate,
      hostname: options.hostname,
      users: new Map(options.authUsers.map((user) => [user.username, user.password])),
      maxMessageSize: options.maxMessageSize,
      maxRecipients: options.maxRecipients,
      connectionLimits: new ConnectionLimits(options),
      commandTimeoutMs: options.commandTimeoutMs,
      dataTimeoutMs: options.dataTimeoutMs,
      faults,
      logger,
      metrics,
    };

    const listeners = createListenerRegistry(options, captureContext, logger);
    listenersRef = listeners;
    cleanups.push(() => listeners.closeAll());

    await listeners.start({ name: 'smtp', port: options.smtpPort, tls: 'starttls', starttls: options.starttls, clientIp: options.clientIp });
    await listeners.start({ name: 'smtps', port: options.smtpsPort, tls: 'implicit', clientIp: options.clientIp });
    for (const listener of options.listeners) await listeners.start(listener);

    const app = express();
    app.disable('x-powered-by');
    app.set('query parser', 'simple');
    const httpServer = http.createServer(app);
    limitHttpConnections(httpServer, options);
    let httpPort = options.httpPort;
    const info = (): ServerInfo => ({
      name: 'mailwright',
      version: VERSION,
      hostname: options.hostname,
      http: { host: options.host, port: httpPort, url: `http://${urlHost(connectHost(options.host))}:${httpPort}` },
      listeners: listeners.list(),
      limits: {
        maxMessageSize: options.maxMessageSize,
        maxMessages: options.maxMessages,
        maxRecipients: options.maxRecipients,
        maxMemory: options.maxMemory,
        maxConnections: options.maxConnections,
        maxConnectionsPerIp: options.maxConnectionsPerIp,
        commandTimeoutMs: options.commandTimeoutMs,
        dataTimeoutMs: options.dataTimeoutMs,
      },
      auth: { mode: options.auth, users: options.authUsers.length },
      apiTokenRequired: options.apiToken !== undefined,
      compatibility: compatibilityUrls(`http://${urlHost(connectHost(options.host))}:${httpPort}`),
    });
    const accessPolicy: AccessPolicy = {
      apiToken: options.apiToken,
      allowedOrigins: options.allowedOrigins,
      // IP addresses (a wildcard bind included) are always answered to: allowedHostNames keeps names only.
      allowedHosts: allowedHostNames([options.hostname, ...options.tlsNames, ...options.allowedHosts, options.host]),
    };
    app.use(metrics.httpLatency());
    app.use(securityHeaders());
    // Before the host check, so that its refusals are not cached either.
    app.use('/api/v1', apiHeaders());
    app.use(requireAllowedHost(accessPolicy));
    app.get('/metrics', requireToken(accessPolicy), async (_request, response) => {
      response.setHeader('Cache-Control', 'no-store');
      response.type(metrics.registry.contentType).end(await metrics.registry.metrics());
    });
    app.use('/api/v1', apiCors(accessPolicy), requireToken(accessPolicy));
    app.use(
      '/api/v1',
      createDnsRouter({
        mode: options.dns,
        zone: dnsZone,
        authenticationEnabled: options.authentication === 'on',
        recompute: async (id) => (authentication ? authentication.recompute(id) : null),
      }),
    );
    app.use('/api/v1', createFaultsRouter(faults));
    app.use(
      '/api/v1',
      createProtectionRouter({
        keys: keyRegistry,
        async issueSmime(address, keyType) {
          const { cert, key } = await authority.issueSmimeCertificate(address, { keyType });
          const registered = await keyRegistry.register({ type: 'smime', address, certificate: cert, privateKey: key });
          return { key: registered, publicKey: cert, privateKey: key, caCertificate: authority.caPem };
        },
        generatePgp: (address, pgpOptions) => issuePgpKey(keyRegistry, address, pgpOptions),
        reexamine: protection ? (id) => protection.reexamine(id) : null,
      }),
    );
    app.use(
      '/api/v1',
      createApiRouter({
        store,
        caPem: authority.caPem,
        info,
        listeners: {
          list: () => listeners.list(),
          create: async (config) => {
            checkRuntimeListener(config, options);
            return listeners.start(config);
          },
          remove: (name) => listeners.remove(name),
        },
        issueClientCertificate: (commonName) => authority.issueClientCertificate(commonName),
        intermediateCaPem: () => authority.intermediateCaPem(),
        health: async () => listeners.health(),
        logger,
      }),
    );
    const compatibility = mountCompatibility(app, httpServer, { store, info, logger }, accessPolicy);
    if (options.webRoot !== undefined) app.use(serveWeb(options.webRoot));
    app.use(errorMiddleware(logger));

    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen({ host: options.host, port: options.httpPort }, () => {
        httpServer.off('error', reject);
        resolve();
      });
    }).catch((error: unknown) => {
      throw bindError(error, 'HTTP', options.httpPort, options.host);
    });
    httpPort = (httpServer.address() as net.AddressInfo).port;
    const stream = attachStreamHub(
      httpServer,
      store,
      accessPolicy,
      {
        maxBufferedBytes: options.streamMaxBufferedBytes,
        pingIntervalMs: options.streamPingIntervalMs,
        answeredElsewhere: compatibility.handlesUpgrade,
        onSlowClient: () => metrics.slowStreamClient(),
      },
      logger,
      (message) => readMessageDetail(store, message),
    );
    streamRef = stream;
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          const force = setTimeout(() => httpServer.closeAllConnections(), HTTP_CLOSE_TIMEOUT_MS);
          force.unref();
          httpServer.close(() => {
            clearTimeout(force);
            resolve();
          });
          httpServer.closeIdleConnections();
        }),
      () => stream.close(),
      // Before the HTTP server's close, which would wait for the event sockets.
      () => compatibility.close(),
    );

    const endpoint = (name: string) => {
      const listener = listeners.get(name) as StartedCaptureListener;
      return Object.freeze({ host: connectHost(options.host), port: listener.info.port });
    };
    let closing: Promise<void> | null = null;
    const close = (): Promise<void> => (closing ??= cleanup());
    logger.info({ url: info().http.url }, 'mailwright started');
    return {
      options,
      url: info().http.url,
      httpPort,
      smtp: endpoint('smtp'),
      smtps: endpoint('smtps'),
      ca: authority.caPem,
      store,
      dnsZone,
      faults,
      info,
      listeners: () => listeners.list(),
      addListener: (config) => listeners.start(config),
      removeListener: (name) => listeners.remove(name),
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** Generates an OpenPGP key with `generatePgpKey` and registers it; its result gives the armored halves. */
async function issuePgpKey(registry: KeyRegistry, address: string, options: { name?: string; passphrase?: string }): Promise<IssuedKey> {
  const { publicKey, privateKey } = await generatePgpKey(address, options);
  const key = await registry.register({ type: 'pgp', address, privateKey, ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }) });
  return { key, publicKey, privateKey, caCertificate: null };
}

/** The `INVALID_OPTIONS` error for a zone file that cannot be loaded: one problem per line at fault. */
function zoneFileOptionsError(error: unknown, file: string): MailwrightError {
  const details = isMailwrightError(error) && Array.isArray(error.details) ? (error.details as { line?: unknown; message?: unknown }[]) : [];
  const problems =
    details.length > 0 && details.every((detail) => typeof detail.line === 'number')
      ? details.map((detail) => ({ path: 'dnsZone', message: `${file}:${String(detail.line)}: ${String(detail.message)}` }))
      : [{ path: 'dnsZone', message: error instanceof Error ? error.message : String(error) }];
  return new MailwrightError(ErrorCode.INVALID_OPTIONS, `Invalid options:\n  ${problems.map((problem) => problem.message).join('\n  ')}`, {
    cause: error,
    details: problems,
  });
}
