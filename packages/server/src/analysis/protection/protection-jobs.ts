import type { Protection } from '@mailwright/core';
import type { Logger } from '../../logger.js';
import type { MessageStore } from '../../store/message-store.js';
import type { ParsePool } from '../parse-pool.js';
import { createJobQueue } from '../job-queue.js';
import { NO_PROTECTION, needsExamination, type ProtectionLimits } from './examine-protection.js';
import type { ProtectionKeys } from './protection-layer.js';

/** Options of {@link createProtectionJobs}. */
export interface ProtectionJobsOptions {
  store: MessageStore;
  pool: Pick<ParsePool, 'examineProtection'>;
  /** The registered keys, read when a message's turn comes. */
  keys(): ProtectionKeys;
  limits: ProtectionLimits;
  /** Messages examined at once. Default 1. */
  concurrency?: number;
  /** Messages waiting; beyond it the oldest waiting one gets a record saying so, never dropped silently. */
  maxQueue: number;
  logger: Logger;
}

/** The protection jobs of a server: each possibly protected message examined once, after its `250`. */
export interface ProtectionJobs {
  /** Queues a stored message that {@link needsExamination}; returns at once. */
  schedule(id: string): void;
  /** Examines a message now with the current keys and stores the record; null when the message is gone. */
  reexamine(id: string): Promise<Protection | null>;
  /** Resolves once nothing is queued or running. */
  idle(): Promise<void>;
}

/** A done record for a message whose examination could not run. */
function failed(reason: string): Protection {
  return { ...NO_PROTECTION, reason, computedAt: new Date().toISOString() };
}

/**
 * Examines protection off the SMTP path: a bounded queue of message ids worked through in the
 * parse worker pool. Mail with no sign of protection never gets here: it is stored with the
 * shared `none` summary.
 */
export function createProtectionJobs(options: ProtectionJobsOptions): ProtectionJobs {
  async function examine(id: string): Promise<Protection | null> {
    const { store } = options;
    const raw = await store.getRaw(id);
    if (!raw) return null;
    let protection: Protection;
    let decrypted: Buffer | null = null;
    if (!needsExamination(raw)) protection = { ...NO_PROTECTION, computedAt: new Date().toISOString() };
    else {
      try {
        ({ protection, decrypted } = await options.pool.examineProtection(raw, options.keys(), options.limits));
      } catch (error) {
        options.logger.warn({ err: error, id }, 'protection could not be examined');
        protection = failed(`examination failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return (await store.setProtection(id, protection, decrypted)) ? protection : null;
  }

  const jobs = createJobQueue<string>({
    concurrency: options.concurrency ?? 1,
    maxQueue: options.maxQueue,
    run: examine,
    overflow: (dropped) =>
      void options.store.setProtection(dropped, failed(`more than ${options.maxQueue} messages were waiting to be examined`), null).catch(() => undefined),
    failed: (error, id) => options.logger.error({ err: error, id }, 'protection job failed'),
  });

  return {
    schedule: (id) => jobs.push(id),
    reexamine: examine,
    idle: () => jobs.idle(),
  };
}
