import { z } from 'zod';
import type { CapturedMessage, MessageDetail } from './captured-message.js';
import { MessageFilterSchema } from './message-filter.js';
import type { SmtpSession } from './smtp-session.js';
import type { AuthenticationSummary } from './authentication.js';
import type { ProtectionSummary } from './protection.js';

// The constants live apart from the zod schemas, so that a browser bundle that needs only
// them (the stream client) leaves zod out.
export { STREAM_CLOSE_SLOW_CLIENT, STREAM_PROTOCOL } from './stream-protocol.js';

/** client → server: start (or replace) a subscription. */
export const SubscribeFrameSchema = z
  .object({
    type: z.literal('subscribe'),
    /** Chosen by the client; echoed in every frame of this subscription. */
    id: z.string().min(1).max(128),
    filter: MessageFilterSchema.optional(),
    /** Replay every matching message with `seq > since` first. Default: live only. */
    since: z.number().int().nonnegative().optional(),
    /** Which events to receive. Default `['message']`. */
    events: z
      .array(z.enum(['message', 'session']))
      .min(1)
      .optional(),
    /**
     * Deliver each message with its headers, text, html and analysis (a MessageDetail), as
     * `GET /messages/:id` returns it, so that no second request is needed. Default false.
     */
    detail: z.boolean().optional(),
  })
  .strict();
export type SubscribeFrame = z.infer<typeof SubscribeFrameSchema>;

/** client → server: end a subscription. */
export const UnsubscribeFrameSchema = z.object({ type: z.literal('unsubscribe'), id: z.string().min(1).max(128) }).strict();
export type UnsubscribeFrame = z.infer<typeof UnsubscribeFrameSchema>;

/** Every frame a client may send. */
export const ClientFrameSchema = z.discriminatedUnion('type', [SubscribeFrameSchema, UnsubscribeFrameSchema]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;

/** Every frame the server sends. */
export type ServerFrame =
  /**
   * `epoch` names the numbering `seq` belongs to: it changes when the numbering starts over
   * (a server restarted with a fresh store), so a client knows its cursors are void even when
   * the new seq has already passed them.
   */
  | { type: 'hello'; version: 1; seq: number; epoch: string }
  /** A subscription's replay is complete; live delivery follows. */
  | { type: 'subscribed'; subscription: string; seq: number }
  /** `message` is a MessageDetail for subscriptions with `detail: true`. */
  | { type: 'message'; subscription: string; message: CapturedMessage | MessageDetail }
  | { type: 'session'; subscription: string; session: SmtpSession }
  | { type: 'deleted'; ids: string[] }
  /** A message's verdicts were computed (or recomputed); sent to every client with a message subscription. */
  | { type: 'authentication'; id: string; seq: number; authentication: AuthenticationSummary }
  /** A message's protection was examined (or re-examined after a key was registered); sent to every client with a message subscription. */
  | { type: 'protection'; id: string; seq: number; protection: ProtectionSummary }
  | { type: 'cleared' }
  | { type: 'error'; code: string; message: string; subscription?: string };
