import type { ApiClient, DnsRecord, DnsRecordType } from '@mailwright/core';
import { normalizeDnsName } from '@mailwright/core';

/**
 * A change to the server's mock DNS zone that can be undone: `restore()` (or leaving an
 * `await using` block) puts back the records each changed name and type held before.
 */
export interface DnsChange extends AsyncDisposable {
  /** The records the change published. */
  readonly records: readonly DnsRecord[];
  /** What the changed names and types held before, now restored by {@link DnsChange.restore}. */
  readonly previous: readonly DnsRecord[];
  /** Puts the previous records back (removes the name and type where there were none). Idempotent. */
  restore(): Promise<void>;
}

function key(name: string, type: string): string {
  const checked = normalizeDnsName(name);
  return `${'name' in checked ? checked.name : name.toLowerCase()} ${type.toUpperCase()}`;
}

/** The mock DNS zone of a server (`/api/v1/dns/records`), as `mail.dns`. */
export class DnsClient {
  readonly #http: ApiClient;

  constructor(http: ApiClient) {
    this.#http = http;
  }

  /** Every record of the zone. */
  async records(): Promise<DnsRecord[]> {
    return (await this.#http.json<{ records: DnsRecord[] }>('GET', '/dns/records')).records;
  }

  /**
   * Sets the records of one name and type, replacing what it held: a TXT record's whole text,
   * an address, `priority exchange` for MX. Several values make a record set (the MX hosts of a
   * domain). The returned change restores the previous records when disposed.
   */
  async set(name: string, type: DnsRecordType, value: string | readonly string[]): Promise<DnsChange> {
    const values = typeof value === 'string' ? [value] : [...value];
    if (values.length === 0) throw new TypeError('dns.set needs at least one value (use dns.delete to remove records)');
    return this.publish(values.map((item) => ({ name, type, value: item })));
  }

  /** Removes the records of a name: of one type, or of every type. */
  async delete(name: string, type?: DnsRecordType): Promise<void> {
    await this.#http.json('DELETE', '/dns/records', { query: { name, type } });
  }

  /**
   * Publishes records (each name and type in the list gets exactly the records listed for it)
   * and returns the change that puts the previous ones back.
   */
  async publish(records: readonly DnsRecord[]): Promise<DnsChange> {
    const before = await this.records();
    const published = await this.#put(records);
    return this.changeMade(published, before);
  }

  /**
   * The change that publishing `records` made to a zone that held `before`: restoring it puts
   * back what `before` held for each of their names and types, and removes the rest.
   */
  changeMade(records: readonly DnsRecord[], before: readonly DnsRecord[]): DnsChange {
    const changed = new Set(records.map((record) => key(record.name, record.type)));
    const previous = before.filter((record) => changed.has(key(record.name, record.type)));
    let restored: Promise<void> | null = null;
    const restore = (): Promise<void> => {
      restored ??= this.#restore(records, previous);
      return restored;
    };
    return { records: [...records], previous, restore, [Symbol.asyncDispose]: restore };
  }

  /** Sets the records of each name and type listed; answers with what was set (names normalized). */
  async #put(records: readonly DnsRecord[]): Promise<DnsRecord[]> {
    const changed = new Set(records.map((record) => key(record.name, record.type)));
    const { records: answered } = await this.#http.json<{ records: DnsRecord[] }>('PUT', '/dns/records', { body: records });
    return answered.filter((record) => changed.has(key(record.name, record.type)));
  }

  async #restore(records: readonly DnsRecord[], previous: readonly DnsRecord[]): Promise<void> {
    const held = new Set(previous.map((record) => key(record.name, record.type)));
    if (previous.length > 0) await this.#put(previous);
    const emptied = new Map<string, DnsRecord>();
    for (const record of records) if (!held.has(key(record.name, record.type))) emptied.set(key(record.name, record.type), record);
    for (const record of emptied.values()) await this.delete(record.name, record.type);
  }
}
