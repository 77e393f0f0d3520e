import { ErrorCode, ListenerConfigSchema, MailwrightError, type ListenerConfig, type ListenerInfo } from '@mailwright/core';
import type { ResolvedMailwrightOptions } from './options.js';
import type { Logger } from './logger.js';
import { startCaptureListener, type CaptureContext, type StartedCaptureListener } from './smtp/capture-listener.js';
import { bindError } from './bind-error.js';

/** Listeners that may run at once, the defaults included: each holds a port and its TLS contexts. */
export const MAX_LISTENERS = 64;

/** The running listeners by name: the defaults, configured ones and runtime ones (the TLS lab). */
export interface ListenerRegistry {
  /** Validates a profile, fills in the server's defaults and starts it. */
  start(config: ListenerConfig): Promise<ListenerInfo>;
  /** Stops and removes one; false when there was none. */
  remove(name: string): Promise<boolean>;
  list(): ListenerInfo[];
  get(name: string): StartedCaptureListener | undefined;
  /** Whether each listener accepts connections (checked without connecting: a probe would be a session). */
  health(): { ok: boolean; listeners: Record<string, boolean> };
  closeAll(): Promise<void>;
}

/** Creates the registry; listeners share the capture context. */
export function createListenerRegistry(options: ResolvedMailwrightOptions, context: CaptureContext, logger: Logger): ListenerRegistry {
  const listeners = new Map<string, StartedCaptureListener>();
  const starting = new Set<string>();

  return {
    async start(config) {
      const parsed = ListenerConfigSchema.safeParse(config);
      if (!parsed.success) {
        throw new MailwrightError(ErrorCode.INVALID_REQUEST, parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '), {
          statusCode: 400,
          details: parsed.error.issues,
        });
      }
      const listener = parsed.data;
      if (listeners.has(listener.name) || starting.has(listener.name)) {
        throw new MailwrightError(ErrorCode.LISTENER_EXISTS, `A listener named "${listener.name}" already exists`, { statusCode: 409 });
      }
      if (listeners.size + starting.size >= MAX_LISTENERS) {
        throw new MailwrightError(ErrorCode.TOO_MANY_LISTENERS, `At most ${MAX_LISTENERS} listeners run at once; remove one first`, { statusCode: 409 });
      }
      starting.add(listener.name);
      try {
        const started = await startCaptureListener(
          {
            name: listener.name,
            host: options.host,
            port: listener.port,
            tls: listener.tls,
            starttls: listener.starttls ?? (listener.tls === 'starttls' ? 'offer' : 'off'),
            certificate: listener.certificate,
            keyType: listener.keyType,
            minVersion: listener.minVersion ?? options.tlsMinVersion,
            maxVersion: listener.maxVersion ?? options.tlsMaxVersion,
            ciphers: listener.ciphers ?? null,
            clientCertificate: listener.clientCertificate,
            auth: listener.auth ?? options.auth,
            clientIp: listener.clientIp ?? null,
          },
          context,
        );
        listeners.set(listener.name, started);
        logger.info({ listener: started.info }, `listener ${started.info.name} on ${options.host}:${started.info.port}`);
        return started.info;
      } catch (error) {
        throw bindError(error, `Listener "${listener.name}"`, listener.port, options.host);
      } finally {
        starting.delete(listener.name);
      }
    },
    async remove(name) {
      const listener = listeners.get(name);
      if (!listener) return false;
      listeners.delete(name);
      await listener.close();
      return true;
    },
    list: () => [...listeners.values()].map((listener) => listener.info),
    get: (name) => listeners.get(name),
    health() {
      const results = [...listeners.values()].map((listener) => [listener.info.name, listener.isListening()] as const);
      return { ok: results.every(([, ok]) => ok), listeners: Object.fromEntries(results) };
    },
    async closeAll() {
      await Promise.all([...listeners.values()].map((listener) => listener.close()));
    },
  };
}
