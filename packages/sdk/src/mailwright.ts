import type {
  Authentication,
  CapturedMessage,
  DmarcPolicy,
  DmarcRecordOptions,
  DnsRecord,
  IssuedKey,
  KeyRegistration,
  ListenerConfig,
  ListenerInfo,
  MessageFilter,
  Protection,
  RegisteredKey,
  ServerInfo,
  SmtpSession,
  SpfAllowOptions,
} from '@mailwright/core';
import { ApiClient, ErrorCode, MailwrightError, connectHost, dmarcRecord, spfAllowRecord } from '@mailwright/core';
import { DnsClient, type DnsChange } from './dns-client.js';
import { FaultClient } from './fault-client.js';
import type { MailwrightOptions } from '@mailwright/core/options';
import { StreamClient } from './stream-client.js';
import { Inbox, uniqueAddress } from './inbox.js';
import { toWireFilter, type MessageFilterInput } from './message-filter-input.js';
import { receiveMessage, type ReceivedMessage } from './received-message.js';
import { waitForMessages, type WaitOptions } from './wait-for-messages.js';
import { waitForSession, type SessionWaitOptions } from './wait-for-session.js';
import { transportOptions, type SmtpTransportOptions, type TransportOptionsInput } from './transport-options.js';

/** Where an SMTP listener accepts connections. */
export interface SmtpEndpoint {
  host: string;
  port: number;
}

/** Options of {@link Mailwright.connect}. */
export interface ConnectOptions {
  /** The API token, when the server requires one. Default: `MAILWRIGHT_API_TOKEN`. */
  token?: string;
  /** Where the `smtp` listener is reached, when it differs from what the server reports (e.g. a mapped container port). */
  smtp?: SmtpEndpoint;
  /** Where the `smtps` listener is reached, when it differs from what the server reports. */
  smtps?: SmtpEndpoint;
}

/** A runtime listener that removes itself when disposed (`await using`). */
export interface RuntimeListener extends ListenerInfo, AsyncDisposable {
  /** Where to connect. */
  readonly endpoint: SmtpEndpoint;
  /** Removes the listener. */
  remove(): Promise<void>;
  /** Messages this listener accepted, newest first. */
  messages(): Promise<CapturedMessage[]>;
  /** Sessions on this listener, newest first, including failed handshakes. */
  sessions(): Promise<SmtpSession[]>;
}

/** Key algorithms of {@link Mailwright.dkim}'s `createKey`; `rsa-1024` only to see what receivers do with a short key. */
export type DkimKeyAlgorithm = 'rsa-2048' | 'ed25519' | 'rsa-1024';

/** Key types of {@link Mailwright.smime}'s `issue`. */
export type SmimeKeyType = 'rsa-2048' | 'rsa-3072' | 'ecdsa-p256';

/** A DKIM key made by the server, its public half published in the mock zone until disposed. */
export interface DkimKey extends DnsChange {
  domain: string;
  selector: string;
  algorithm: DkimKeyAlgorithm;
  /** PKCS#8 PEM. */
  privateKey: string;
  /** The published record: `selector._domainkey.domain TXT "v=DKIM1; k=…; p=…"`. */
  record: DnsRecord;
  /**
   * nodemailer's `dkim` transport option for this key: `createTransport({ …, dkim: key.dkim })`.
   * Null for Ed25519, which nodemailer does not sign with.
   */
  dkim: { domainName: string; keySelector: string; privateKey: string } | null;
}

interface Closeable {
  close(): Promise<void>;
}

/** A handle on a Mailwright server: messages, sessions, listeners and inboxes. */
export class Mailwright implements AsyncDisposable {
  /** HTTP base URL, e.g. `http://127.0.0.1:8025`. */
  readonly url: string;
  /** The default plaintext/STARTTLS listener. */
  readonly smtp: SmtpEndpoint;
  /** The default implicit TLS listener. */
  readonly smtps: SmtpEndpoint;
  /** The test CA certificate (PEM) to trust in SMTP clients. */
  readonly ca: string;
  readonly #http: ApiClient;
  readonly #stream: StreamClient;
  readonly #server: Closeable | null;
  #closed = false;

  private constructor(args: { url: string; smtp: SmtpEndpoint; smtps: SmtpEndpoint; ca: string; http: ApiClient; server: Closeable | null }) {
    this.url = args.url;
    this.smtp = args.smtp;
    this.smtps = args.smtps;
    this.ca = args.ca;
    this.#http = args.http;
    this.#stream = new StreamClient(args.url, args.http.headers());
    this.#server = args.server;
    this.dns = new DnsClient(args.http);
    this.faults = new FaultClient(args.http);
  }

  /** Connects to a running server; learns its ports from `GET /api/v1/info`. */
  static async connect(url: string, options: ConnectOptions = {}): Promise<Mailwright> {
    const http = new ApiClient({ baseUrl: url, token: options.token ?? process.env.MAILWRIGHT_API_TOKEN });
    return Mailwright.#fromServer(http, null, options);
  }

  /**
   * Starts a server inside this process on free ports (loads `@mailwright/server`,
   * an optional peer dependency). `close()` stops it. The options are those of
   * `createMailwright`, checked against the same schema.
   */
  static async start(options: MailwrightOptions = {}): Promise<Mailwright> {
    let server: { createMailwright(options: MailwrightOptions): Promise<{ url: string; close(): Promise<void>; options: { apiToken?: string } }> };
    try {
      server = (await import('@mailwright/server' as string)) as typeof server;
    } catch (cause) {
      throw new MailwrightError(ErrorCode.INTERNAL, 'Mailwright.start() needs the @mailwright/server package: npm install -D @mailwright/server', { cause });
    }
    const running = await server.createMailwright({ smtpPort: 0, smtpsPort: 0, httpPort: 0, ...options });
    try {
      return await Mailwright.#fromServer(new ApiClient({ baseUrl: running.url, token: running.options.apiToken }), running);
    } catch (error) {
      await running.close();
      throw error;
    }
  }

  static async #fromServer(http: ApiClient, server: Closeable | null, overrides: ConnectOptions = {}): Promise<Mailwright> {
    const [info, ca] = await Promise.all([http.json<ServerInfo>('GET', '/info'), http.text('/tls/ca.pem')]);
    const endpoint = (name: string): SmtpEndpoint => {
      const listener = info.listeners.find((candidate) => candidate.name === name);
      if (!listener) throw new MailwrightError(ErrorCode.LISTENER_NOT_FOUND, `The server has no "${name}" listener`);
      return Object.freeze({ host: connectHost(listener.host, new URL(http.baseUrl).hostname), port: listener.port });
    };
    return new Mailwright({
      url: http.baseUrl,
      smtp: overrides.smtp ? Object.freeze({ ...overrides.smtp }) : endpoint('smtp'),
      smtps: overrides.smtps ? Object.freeze({ ...overrides.smtps }) : endpoint('smtps'),
      ca,
      http,
      server,
    });
  }

  /**
   * Options for nodemailer's SMTP transport to one of this server's listeners, trusting the
   * test CA: `nodemailer.createTransport(mail.transportOptions({ tls: 'implicit' }))`. Default
   * `{ tls: 'starttls' }` on the `smtp` listener; pass a runtime listener's `endpoint` to reach it.
   */
  transportOptions(input: TransportOptionsInput = {}): SmtpTransportOptions {
    return transportOptions(this, input);
  }

  /** An inbox with a unique address (or the given one). */
  inbox(address?: string): Inbox {
    return new Inbox(address ?? uniqueAddress(), this.#http, this.#stream, address === undefined);
  }

  /** Captured messages. */
  readonly messages = {
    /** Newest first. */
    list: (filter: MessageFilterInput & { limit?: number; before?: number; after?: number } = {}): Promise<{ messages: CapturedMessage[]; total: number }> => {
      const { limit, before, after, ...rest } = filter;
      return this.#http.json('GET', '/messages', { query: { ...toWireFilter(rest), limit, before, after } });
    },
    /** One message with its headers, bodies and helpers. */
    get: (id: string): Promise<ReceivedMessage> => receiveMessage(this.#http, id),
    /** The first message matching the filter, stored or still to come. */
    waitFor: async (options: WaitOptions = {}): Promise<ReceivedMessage> => (await waitForMessages(this.#http, this.#stream, 1, options))[0] as ReceivedMessage,
    /**
     * Computes a message's SPF, DKIM, DMARC and ARC verdicts anew (after a change to the mock
     * zone) and returns them; the message carries them from then on.
     */
    recomputeAuthentication: (id: string): Promise<Authentication> => this.#http.json('POST', `/messages/${encodeURIComponent(id)}/authentication`),
    /**
     * Examines a message's S/MIME or OpenPGP protection anew with the keys registered now (a
     * message encrypted before its key was registered) and returns the record; the message
     * carries it, and its decrypted view, from then on.
     */
    reexamineProtection: (id: string): Promise<Protection> => this.#http.json('POST', `/messages/${encodeURIComponent(id)}/protection`),
    /** Deletes one message. */
    delete: async (id: string): Promise<void> => {
      await this.#http.json('DELETE', `/messages/${encodeURIComponent(id)}`);
    },
    /** Deletes the matching messages; with no filter, every message. Returns how many. */
    deleteAll: async (filter: MessageFilterInput = {}): Promise<number> => {
      const wire: MessageFilter = toWireFilter(filter);
      const { deleted } = await this.#http.json<{ deleted: number }>('DELETE', '/messages', { query: Object.keys(wire).length === 0 ? { all: true } : wire });
      return deleted;
    },
  };

  /** SMTP sessions, including failed TLS handshakes. */
  readonly sessions = {
    /** Newest first. */
    list: (options: { listener?: string; limit?: number } = {}): Promise<{ sessions: SmtpSession[]; total: number }> =>
      this.#http.json('GET', '/sessions', { query: options }),
    get: (id: string): Promise<SmtpSession> => this.#http.json('GET', `/sessions/${encodeURIComponent(id)}`),
    /** The first session (closed, by default) matching the options, already recorded or still to come. */
    waitFor: (options: SessionWaitOptions = {}): Promise<SmtpSession> => waitForSession(this.#http, this.#stream, options),
  };

  /** Listeners, including ones created at runtime (the TLS lab). */
  readonly listeners = {
    list: async (): Promise<ListenerInfo[]> => (await this.#http.json<{ listeners: ListenerInfo[] }>('GET', '/listeners')).listeners,
    /** Creates a listener (a free port and a generated name unless given); `await using` removes it. */
    create: async (config: Partial<ListenerConfig> = {}): Promise<RuntimeListener> => {
      const info = await this.#http.json<ListenerInfo>('POST', '/listeners', {
        body: { name: `lab-${Math.random().toString(36).slice(2, 8)}`, port: 0, ...config },
      });
      const remove = async (): Promise<void> => {
        await this.#http.json('DELETE', `/listeners/${encodeURIComponent(info.name)}`).catch((error: unknown) => {
          if ((error as MailwrightError).code !== ErrorCode.LISTENER_NOT_FOUND) throw error;
        });
      };
      return {
        ...info,
        endpoint: { host: connectHost(info.host, new URL(this.url).hostname), port: info.port },
        remove,
        messages: async () => (await this.messages.list({ listener: info.name, limit: 1000 })).messages,
        sessions: async () => (await this.sessions.list({ listener: info.name, limit: 1000 })).sessions,
        [Symbol.asyncDispose]: remove,
      };
    },
    remove: async (name: string): Promise<void> => {
      await this.#http.json('DELETE', `/listeners/${encodeURIComponent(name)}`);
    },
  };

  /**
   * The mock DNS zone the server judges SPF, DKIM and DMARC against: `records()`,
   * `set(name, type, value | values)` (disposable with `await using`: it restores what the name
   * and type held before), `delete(name, type?)`.
   */
  readonly dns: DnsClient;

  /**
   * Fault rules: `await using f = await mail.faults.add(faults.greylisting({ match: { recipient } }))`.
   * Scope each rule to your test's recipient (or sender) so that parallel tests never see it.
   */
  readonly faults: FaultClient;

  /** DKIM keys for signing test mail. */
  readonly dkim = {
    /**
     * Makes a key (`rsa-2048` by default, `ed25519`, `rsa-1024`) and publishes its
     * `selector._domainkey.domain` TXT record; `await using` removes the record again.
     */
    createKey: async (options: { domain: string; selector: string; algorithm?: DkimKeyAlgorithm }): Promise<DkimKey> => {
      const before = await this.dns.records();
      const created = await this.#http.json<Omit<DkimKey, keyof DnsChange>>('POST', '/dkim/keys', { body: options });
      const change = this.dns.changeMade([created.record], before);
      return Object.assign(created, change);
    },
  };

  /** SPF records in the mock zone. */
  readonly spf = {
    /**
     * Publishes `domain TXT "v=spf1 ip4:… -all"`, letting `ips` (addresses or networks) send for
     * the domain; `all: '~all'` softfails the rest, `also` adds mechanisms. Disposable.
     */
    allow: async (domain: string, ips: string | readonly string[], options?: SpfAllowOptions): Promise<DnsChange> =>
      this.dns.publish([spfAllowRecord(domain, ips, options)]),
  };

  /** DMARC records in the mock zone. */
  readonly dmarc = {
    /** Publishes `_dmarc.domain TXT "v=DMARC1; p=…"` (`sp=`, `adkim=`, `aspf=`, `rua=` from the options). Disposable. */
    publish: async (domain: string, policy: DmarcPolicy, options?: DmarcRecordOptions): Promise<DnsChange> =>
      this.dns.publish([dmarcRecord(domain, policy, options)]),
  };

  /**
   * Keys for end-to-end protection: a recipient's key pair (messages to it are decrypted), a
   * signer's certificate or public key, or a CA to trust for S/MIME signatures. Private halves
   * are kept in the server's memory and never served back.
   */
  readonly keys = {
    /** Registers a key (`POST /keys`); bad PEM or armor is refused with the problem named. */
    register: (registration: KeyRegistration): Promise<RegisteredKey> => this.#http.json('POST', '/keys', { body: registration }),
    /** Every registered key, without private halves. */
    list: async (): Promise<RegisteredKey[]> => (await this.#http.json<{ keys: RegisteredKey[] }>('GET', '/keys')).keys,
    /** Forgets a key. */
    delete: async (id: string): Promise<void> => {
      await this.#http.json('DELETE', `/keys/${encodeURIComponent(id)}`);
    },
  };

  /** S/MIME certificates for test recipients and signers. */
  readonly smime = {
    /**
     * Issues a certificate for the address from the test CA (e-mail protection, `rsa-2048` by
     * default) and registers its key, so mail encrypted to it is decrypted. Returns the
     * certificate (`publicKey`) and PKCS#8 key (`privateKey`) to hand to the app, and the CA.
     */
    issue: (address: string, options: { keyType?: SmimeKeyType } = {}): Promise<IssuedKey> =>
      this.#http.json('POST', '/keys/smime', { body: { address, ...options } }),
  };

  /** OpenPGP keys for test recipients and signers. */
  readonly pgp = {
    /**
     * Generates an OpenPGP key for the address (user id `name <address>`) and registers it, so
     * mail encrypted to it is decrypted and its signatures are trusted. Returns the armored
     * public and private keys to hand to the app.
     */
    generate: (address: string, options: { name?: string; passphrase?: string } = {}): Promise<IssuedKey> =>
      this.#http.json('POST', '/keys/pgp', { body: { address, ...options } }),
  };

  /** Issues a client certificate (and key) from the test CA, for mutual TLS. */
  issueClientCertificate(commonName: string): Promise<{ cert: string; key: string }> {
    return this.#http.json('POST', '/tls/client-certificates', { body: { commonName } });
  }

  /** Closes the stream, and stops the server when it was started in-process. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.close();
    await this.#server?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
