import { ErrorCode, type ApiClient, type FaultRuleInput, type FaultStage, type MailwrightError, type RegisteredFaultRule } from '@mailwright/core';

/** A registered fault rule that removes itself when disposed (`await using`). */
export interface FaultHandle extends RegisteredFaultRule, AsyncDisposable {
  /** Removes the rule (again: nothing happens). */
  remove(): Promise<void>;
  /** The rule as the server has it now, with how often it `matched` and `fired`. */
  status(): Promise<RegisteredFaultRule>;
}

/** What `inbox.fail()` takes: a reject at a stage, for this inbox's mail only. */
export interface InboxFailure {
  /** Where: `rcpt` (default), `data` or `end-of-data`, the stages that know the recipient. */
  at?: Extract<FaultStage, 'rcpt' | 'data' | 'end-of-data'>;
  /** The reply code, 400–599. */
  code: number;
  /** The reply text (enhanced status code first); default: a usual text for the code. */
  text?: string;
  /** Fail the first `times` attempts only; default every attempt. */
  times?: number;
  /** Fail the `nth` attempt only. */
  nth?: number;
}

/** Registers a rule and wraps it in a {@link FaultHandle}. */
export async function addFault(http: ApiClient, rule: FaultRuleInput): Promise<FaultHandle> {
  const registered = await http.json<RegisteredFaultRule>('POST', '/faults', { body: rule });
  const path = `/faults/${encodeURIComponent(registered.id)}`;
  const remove = async (): Promise<void> => {
    await http.json('DELETE', path).catch((error: unknown) => {
      if ((error as MailwrightError).code !== ErrorCode.FAULT_NOT_FOUND) throw error;
    });
  };
  return { ...registered, remove, status: () => http.json<RegisteredFaultRule>('GET', path), [Symbol.asyncDispose]: remove };
}

/** The fault rules of a server: `add` (disposable), `list`, `remove`, `clear`. */
export class FaultClient {
  readonly #http: ApiClient;

  /** @internal Use `mail.faults`. */
  constructor(http: ApiClient) {
    this.#http = http;
  }

  /** Registers a rule (see `faults` in `@mailwright/core` for ready-made ones); `await using` removes it. */
  add(rule: FaultRuleInput): Promise<FaultHandle> {
    return addFault(this.#http, rule);
  }

  /** Every rule, in the order added, with its counts. */
  async list(): Promise<RegisteredFaultRule[]> {
    return (await this.#http.json<{ faults: RegisteredFaultRule[] }>('GET', '/faults')).faults;
  }

  /** Removes one rule. */
  async remove(id: string): Promise<void> {
    await this.#http.json('DELETE', `/faults/${encodeURIComponent(id)}`);
  }

  /** Removes every rule (of every test using this server); returns how many. */
  async clear(): Promise<number> {
    return (await this.#http.json<{ deleted: number }>('DELETE', '/faults')).deleted;
  }
}
