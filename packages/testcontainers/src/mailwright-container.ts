import { Mailwright } from '@mailwright/sdk';
import { AbstractStartedContainer, GenericContainer, Wait, getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';

/** The image {@link MailwrightContainer} runs when none is given. */
export const MAILWRIGHT_IMAGE = 'mailwright:local';

/** Port of the `smtp` listener inside the container: plaintext, STARTTLS offered. */
export const MAILWRIGHT_SMTP_PORT = 1025;

/** Port of the `smtps` listener inside the container: implicit TLS. */
export const MAILWRIGHT_SMTPS_PORT = 1465;

/** Port of the web inbox, the REST API and the WebSocket stream inside the container. */
export const MAILWRIGHT_HTTP_PORT = 8025;

/** How long {@link MailwrightContainer.start} waits for `/api/v1/health` by default. */
export const MAILWRIGHT_STARTUP_TIMEOUT_MS = 60_000;

/** STARTTLS policy of the `smtp` listener (`MAILWRIGHT_STARTTLS`). */
export type StarttlsPolicy = 'offer' | 'require' | 'off';

/** SMTP AUTH policy (`MAILWRIGHT_AUTH`). */
export type AuthPolicy = 'off' | 'optional' | 'required';

/** Credentials the server accepts, for {@link MailwrightContainer.withAuth}. */
export interface AuthUser {
  /** The user name; must not contain `:` or `,`. */
  username: string;
  /** The password; must not contain `,`. */
  password: string;
}

/**
 * A Mailwright server in a container: mock SMTP inboxes that capture every message and how it
 * was delivered. Configured through the image's `MAILWRIGHT_*` environment variables, started
 * once `GET /api/v1/health` answers 200.
 *
 * ```ts
 * await using mailwright = await new MailwrightContainer().withStarttls('require').start();
 * const mail = await mailwright.client();
 * ```
 */
export class MailwrightContainer extends GenericContainer {
  #apiToken: string | undefined;
  readonly #tlsNames = new Set<string>();
  readonly #allowedHosts = new Set<string>();

  /**
   * @param image The Mailwright image. Default: {@link MAILWRIGHT_IMAGE}, as built by
   *   `docker build -f docker/Dockerfile -t mailwright:local .`
   */
  constructor(image: string = MAILWRIGHT_IMAGE) {
    super(image);
    this.withExposedPorts(MAILWRIGHT_SMTP_PORT, MAILWRIGHT_SMTPS_PORT, MAILWRIGHT_HTTP_PORT)
      .withWaitStrategy(Wait.forHttp('/api/v1/health', MAILWRIGHT_HTTP_PORT).forStatusCode(200))
      .withStartupTimeout(MAILWRIGHT_STARTUP_TIMEOUT_MS);
  }

  /**
   * The STARTTLS policy of the `smtp` listener: `offer` (default) advertises it, `require`
   * refuses mail before STARTTLS, `off` never advertises it.
   */
  withStarttls(policy: StarttlsPolicy): this {
    return this.withEnvironment({ MAILWRIGHT_STARTTLS: policy });
  }

  /**
   * The SMTP AUTH policy, default `optional`. With `users`, only those credentials are
   * accepted; without, any credentials are.
   */
  withAuth(policy: AuthPolicy, users: readonly AuthUser[] = []): this {
    for (const { username, password } of users) {
      if (username === '' || /[:,]/.test(username) || password.includes(',')) {
        throw new TypeError(`withAuth: user "${username}" cannot be passed to the container (no ":" or "," in names, no "," in passwords)`);
      }
    }
    this.withEnvironment({ MAILWRIGHT_AUTH: policy });
    if (users.length > 0) this.withEnvironment({ MAILWRIGHT_AUTH_USERS: users.map(({ username, password }) => `${username}:${password}`).join(',') });
    return this;
  }

  /** How many messages are kept; the oldest are dropped beyond this. Default 10000. */
  withMaxMessages(count: number): this {
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`withMaxMessages: ${count} is not a positive integer`);
    return this.withEnvironment({ MAILWRIGHT_MAX_MESSAGES: String(count) });
  }

  /**
   * Requires this token on the REST API and the stream (at least 8 characters). The started
   * container's {@link StartedMailwrightContainer.client} and
   * {@link StartedMailwrightContainer.getCaCertificate} send it. Default: no token.
   */
  withApiToken(token: string): this {
    this.#apiToken = token;
    return this.withEnvironment({ MAILWRIGHT_API_TOKEN: token });
  }

  /**
   * The name in the SMTP greeting, also covered by the server certificate besides `localhost`,
   * `127.0.0.1` and `::1`: set it to the name clients connect to when that is something else
   * (a network alias, a remote Docker host). Default `localhost`. (`withHostname` is the
   * container's own host name, as in every testcontainers module.)
   */
  withServerHostname(name: string): this {
    return this.withEnvironment({ MAILWRIGHT_HOSTNAME: name });
  }

  /**
   * More host names or IP addresses the server certificate covers. The host this process
   * reaches the container by ({@link StartedMailwrightContainer.getHost}) is always covered.
   */
  withTlsNames(...names: string[]): this {
    for (const name of names) {
      if (name === '' || /[\s,]/.test(name)) throw new TypeError(`withTlsNames: "${name}" is not a host name or IP address`);
      this.#tlsNames.add(name);
    }
    return this;
  }

  /**
   * More host names the HTTP API answers to, e.g. a network alias other containers use
   * (`.example.test` covers subdomains, `*` any name). Loopback names, IP addresses, the
   * server hostname and the TLS names are always answered; with {@link withApiToken} any name
   * is. Other names get 403 `HOST_NOT_ALLOWED`, which stops DNS rebinding pages.
   */
  withAllowedHosts(...names: string[]): this {
    for (const name of names) {
      if (name === '' || /[\s,/:]/.test(name)) throw new TypeError(`withAllowedHosts: "${name}" is not a host name`);
      this.#allowedHosts.add(name);
    }
    return this.withEnvironment({ MAILWRIGHT_ALLOWED_HOSTS: [...this.#allowedHosts].join(',') });
  }

  /**
   * Starts the container and resolves once `/api/v1/health` answers 200. The server
   * certificate covers the Docker host as this process reaches it, which is not always
   * `localhost` (inside a container it is the bridge gateway, with a remote engine its name).
   */
  override async start(): Promise<StartedMailwrightContainer> {
    const { host } = (await getContainerRuntimeClient()).info.containerRuntime;
    this.withEnvironment({ MAILWRIGHT_TLS_NAMES: [...new Set([host, ...this.#tlsNames])].join(',') });
    return new StartedMailwrightContainer(await super.start(), this.#apiToken);
  }
}

/** A running {@link MailwrightContainer}: its mapped ports, its test CA and an SDK handle. */
export class StartedMailwrightContainer extends AbstractStartedContainer {
  readonly #apiToken: string | undefined;
  readonly #clients = new Set<Mailwright>();

  /** @internal Made by {@link MailwrightContainer.start}. */
  constructor(startedTestContainer: StartedTestContainer, apiToken: string | undefined) {
    super(startedTestContainer);
    this.#apiToken = apiToken;
  }

  /** The host port mapped to the `smtp` listener (plaintext, STARTTLS). */
  getSmtpPort(): number {
    return this.getMappedPort(MAILWRIGHT_SMTP_PORT);
  }

  /** The host port mapped to the `smtps` listener (implicit TLS). */
  getSmtpsPort(): number {
    return this.getMappedPort(MAILWRIGHT_SMTPS_PORT);
  }

  /** The host port mapped to the web inbox, REST API and stream. */
  getHttpPort(): number {
    return this.getMappedPort(MAILWRIGHT_HTTP_PORT);
  }

  /** Base URL of the web inbox and the API as reached from this process, e.g. `http://localhost:32768`. */
  getHttpUrl(): string {
    const host = this.getHost();
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.getHttpPort()}`;
  }

  /** The API token the container was started with, if any. */
  getApiToken(): string | undefined {
    return this.#apiToken;
  }

  /**
   * The test CA certificate (PEM) that issued the server certificate; trust it in SMTP
   * clients. Kept in the container's `/data` volume, so it is the same after a restart.
   */
  async getCaCertificate(): Promise<string> {
    const response = await fetch(`${this.getHttpUrl()}/api/v1/tls/ca.pem`, {
      headers: this.#apiToken === undefined ? {} : { authorization: `Bearer ${this.#apiToken}` },
    });
    if (!response.ok) throw new Error(`GET /api/v1/tls/ca.pem answered HTTP ${response.status}`);
    return response.text();
  }

  /**
   * An SDK handle on this container, with the mapped SMTP ports and the API token filled in.
   * Close it when done; clients still open are closed when the container stops.
   */
  async client(): Promise<Mailwright> {
    const host = this.getHost();
    const mail = await Mailwright.connect(this.getHttpUrl(), {
      ...(this.#apiToken === undefined ? {} : { token: this.#apiToken }),
      smtp: { host, port: this.getSmtpPort() },
      smtps: { host, port: this.getSmtpsPort() },
    });
    this.#clients.add(mail);
    return mail;
  }

  /** Closes the SDK handles of {@link client} before the container stops. */
  protected override async containerStopping(): Promise<void> {
    const clients = [...this.#clients];
    this.#clients.clear();
    await Promise.allSettled(clients.map((mail) => mail.close()));
  }

  /** Stops the container (`await using`), closing the SDK handles first like {@link stop}. */
  override async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
