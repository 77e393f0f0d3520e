import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, runProcess } from './external-client.js';

const GPG_TIMEOUT_MS = 60_000;

/** A key generated in a {@link GnupgHome}. */
export interface GnupgKey {
  /** Primary key fingerprint, lower-case hex. */
  fingerprint: string;
  /** Key ids (lower-case hex) of the primary key and every subkey, primary first. */
  keyIds: string[];
}

/**
 * A throw-away GnuPG home directory (Debian's gpg, run with `--batch` and a loopback pinentry) to
 * produce real OpenPGP messages in tests. `close()` stops its agent and removes the directory.
 */
export class GnupgHome {
  private constructor(
    readonly gpg: string,
    readonly home: string,
  ) {}

  /** Creates an empty home; `gpg` is the executable's path (see `requireExecutable`). */
  static async create(gpg: string): Promise<GnupgHome> {
    // A short path: gpg-agent's socket path must fit in a sockaddr_un.
    return new GnupgHome(gpg, await mkdtemp(join(tmpdir(), 'mw-gpg-')));
  }

  /** Runs gpg with this home; resolves to stdout, rejects with stderr on a non-zero exit. */
  async run(args: readonly string[], input = ''): Promise<string> {
    const result = await runProcess(this.gpg, ['--homedir', this.home, '--batch', '--yes', '--no-tty', '--pinentry-mode', 'loopback', ...args], {
      input,
      timeoutMs: GPG_TIMEOUT_MS,
    });
    if (result.code !== 0) throw new Error(`gpg ${args.join(' ')} exited with ${result.code}:\n${result.stderr}`);
    return result.stdout;
  }

  /**
   * Runs gpg on binary-safe files: `input` is written to a file given as the last argument, and
   * what gpg writes with `--output` is returned.
   */
  async runOnFile(args: readonly string[], input: string | Buffer): Promise<Buffer> {
    const name = `io-${Math.random().toString(36).slice(2)}`;
    const inputPath = join(this.home, `${name}.in`);
    const outputPath = join(this.home, `${name}.out`);
    await writeFile(inputPath, input);
    try {
      await this.run([...args, '--output', outputPath, inputPath]);
      return await readFile(outputPath);
    } finally {
      await rm(inputPath, { force: true });
      await rm(outputPath, { force: true });
    }
  }

  /** `gpg --quick-gen-key`: `algorithm` as gpg names it (`future-default`, `rsa1024`, `ed25519`…). */
  async generateKey(userId: string, options: { algorithm?: string; usage?: string; passphrase?: string } = {}): Promise<GnupgKey> {
    await this.run([
      '--passphrase',
      options.passphrase ?? '',
      '--quick-gen-key',
      userId,
      options.algorithm ?? 'future-default',
      options.usage ?? 'default',
      'never',
    ]);
    return this.describeKey(userId);
  }

  /** `gpg --quick-add-key`: adds a subkey (e.g. `rsa1024`, `encr`). */
  async addSubkey(fingerprint: string, algorithm: string, usage: string, passphrase = ''): Promise<GnupgKey> {
    await this.run(['--passphrase', passphrase, '--quick-add-key', fingerprint, algorithm, usage, 'never']);
    return this.describeKey(fingerprint);
  }

  /** The fingerprint and key ids of a key in the keyring. */
  async describeKey(who: string): Promise<GnupgKey> {
    const lines = (await this.run(['--with-colons', '--list-keys', who])).split('\n');
    const keyIds: string[] = [];
    let fingerprint: string | null = null;
    let previous = '';
    for (const line of lines) {
      const fields = line.split(':');
      if (fields[0] === 'pub' || fields[0] === 'sub') keyIds.push(fields[4]!.toLowerCase());
      if (fields[0] === 'fpr' && previous === 'pub' && fingerprint === null) fingerprint = fields[9]!.toLowerCase();
      if (fields[0] !== '') previous = fields[0]!;
    }
    if (fingerprint === null) throw new Error(`no key for ${who} in ${this.home}`);
    return { fingerprint, keyIds };
  }

  /** The armored public key. */
  exportPublicKey(who: string): Promise<string> {
    return this.run(['--armor', '--export', who]);
  }

  /** The armored secret key (its passphrase is needed to export it). */
  exportSecretKey(who: string, passphrase = ''): Promise<string> {
    return this.run(['--passphrase', passphrase, '--armor', '--export-secret-keys', who]);
  }

  /** Imports armored keys. */
  async importKeys(armored: string): Promise<void> {
    await this.run(['--import'], armored);
  }

  /** Stops the home's agent and removes it. */
  async close(): Promise<void> {
    const gpgconf = findExecutable('gpgconf');
    if (gpgconf) await runProcess(gpgconf, ['--homedir', this.home, '--kill', 'all']).catch(() => undefined);
    await rm(this.home, { recursive: true, force: true });
  }
}
