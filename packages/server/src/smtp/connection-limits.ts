/** Which limit refuses a connection, or `null` when it is admitted. */
export type ConnectionRefusal = 'too_many_connections' | 'too_many_connections_from_address' | null;

/** Options of {@link ConnectionLimits}. */
export interface ConnectionLimitsOptions {
  /** Connections open at once, across every listener. */
  maxConnections: number;
  /** Connections open at once from one client address, across every listener. */
  maxConnectionsPerIp: number;
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are the same client. */
function clientAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * Counts the SMTP connections open at once, in total and per client address, shared by every
 * listener of a server: one client (or a crowd) cannot take every socket and file descriptor.
 */
export class ConnectionLimits {
  readonly #options: ConnectionLimitsOptions;
  readonly #byAddress = new Map<string, number>();
  #total = 0;

  constructor(options: ConnectionLimitsOptions) {
    this.#options = options;
  }

  /** Connections open now. */
  get open(): number {
    return this.#total;
  }

  /**
   * Counts a new connection from `address` and returns null, or returns the limit that refuses
   * it (and counts nothing). Every admitted connection must be {@link release}d once.
   */
  admit(address: string): ConnectionRefusal {
    const key = clientAddress(address);
    if (this.#total >= this.#options.maxConnections) return 'too_many_connections';
    const fromAddress = this.#byAddress.get(key) ?? 0;
    if (fromAddress >= this.#options.maxConnectionsPerIp) return 'too_many_connections_from_address';
    this.#total += 1;
    this.#byAddress.set(key, fromAddress + 1);
    return null;
  }

  /** An admitted connection from `address` closed. */
  release(address: string): void {
    const key = clientAddress(address);
    const fromAddress = this.#byAddress.get(key);
    if (fromAddress === undefined) return;
    this.#total -= 1;
    if (fromAddress <= 1) this.#byAddress.delete(key);
    else this.#byAddress.set(key, fromAddress - 1);
  }
}
