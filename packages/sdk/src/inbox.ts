import { randomBytes } from 'node:crypto';
import { ErrorCode, MailwrightError, type ApiClient, type CapturedMessage } from '@mailwright/core';
import type { StreamClient } from './stream-client.js';
import { toWireFilter } from './message-filter-input.js';
import type { ReceivedMessage } from './received-message.js';
import { waitForMessages, type WaitOptions } from './wait-for-messages.js';
import { addFault, type FaultHandle, type InboxFailure } from './fault-client.js';

/** The domain of generated inbox addresses. */
export const INBOX_DOMAIN = 'mailwright.test';

/** A fresh unique address, e.g. `t-3f9c2a1b@mailwright.test`. */
export function uniqueAddress(domain = INBOX_DOMAIN): string {
  return `t-${randomBytes(4).toString('hex')}@${domain}`;
}

/** One recipient address and the mail sent to it; parallel tests never see each other's mail. */
export class Inbox {
  /** The address to send to. */
  readonly address: string;
  readonly #http: ApiClient;
  readonly #stream: StreamClient;

  readonly #scope: { to: string };
  /** A generated address can have no mail from before the inbox: waits need not replay older messages. */
  readonly #createdAtSeq: number;

  /** @internal Use `mail.inbox()`. */
  constructor(address: string, http: ApiClient, stream: StreamClient, generated: boolean) {
    this.address = address;
    this.#http = http;
    this.#stream = stream;
    this.#createdAtSeq = generated ? stream.latestSeq : 0;
    // A full address matches exactly (case-insensitively) on the server: never ab@ for b@.
    this.#scope = { to: address };
  }

  /** Resolves with the first message to this inbox matching the filter, including mail that already arrived. */
  async waitForMessage(options: WaitOptions = {}): Promise<ReceivedMessage> {
    const [message] = await waitForMessages(this.#http, this.#stream, 1, this.#withSince(options), this.#scope);
    return message as ReceivedMessage;
  }

  /** Resolves with the first `count` messages to this inbox matching the filter, in arrival order. */
  async waitForMessages(count: number, options: WaitOptions = {}): Promise<ReceivedMessage[]> {
    return waitForMessages(this.#http, this.#stream, count, this.#withSince(options), this.#scope);
  }

  #withSince(options: WaitOptions): WaitOptions {
    // One `to` field on the wire: a second recipient would replace the inbox's own address and
    // let the wait resolve with someone else's mail.
    if (options.to !== undefined) {
      throw new MailwrightError(
        ErrorCode.INVALID_FILTER,
        `An inbox's waits are scoped to ${this.address}; use mail.messages.waitFor({ to: … }) to wait for another recipient`,
      );
    }
    if (options.since !== undefined) return options;
    // After a server restart (seq went back) the floor no longer applies.
    const since = this.#stream.latestSeq >= this.#createdAtSeq ? this.#createdAtSeq : 0;
    return { ...options, since };
  }

  /** Every message to this inbox so far, newest first. */
  async messages(): Promise<CapturedMessage[]> {
    const { messages } = await this.#http.json<{ messages: CapturedMessage[] }>('GET', '/messages', { query: { ...toWireFilter(this.#scope), limit: 1000 } });
    return messages;
  }

  /**
   * Makes mail to this inbox fail: `await using f = await inbox.fail({ at: 'rcpt', code: 451, times: 1 })`.
   * Only this address is affected, so parallel tests are not; the rule is removed when disposed.
   */
  fail(failure: InboxFailure): Promise<FaultHandle> {
    const { at = 'rcpt', code, text, times, nth } = failure;
    return addFault(this.#http, { at, action: { reply: { code, ...(text === undefined ? {} : { text }) } }, match: { recipient: this.address }, times, nth });
  }

  /** Deletes every message to this inbox. */
  async clear(): Promise<number> {
    const { deleted } = await this.#http.json<{ deleted: number }>('DELETE', '/messages', { query: toWireFilter(this.#scope) });
    return deleted;
  }
}
