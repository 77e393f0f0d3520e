import { createPrivateKey, generateKeyPair as generateKeyPairCallback, randomBytes, X509Certificate as NodeX509Certificate, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ErrorCode, MailwrightError, type CertificateProfile, type KeyType } from '@mailwright/core';
import { generateKey, issueCertificate, parseCertificate, type ParsedCertificate, type PrivateKey } from './issue-certificate.js';
import { rememberSuccess } from './remember-success.js';

const generateKeyPair = promisify(generateKeyPairCallback);
const DAY_MS = 86_400_000;
const CA_VALIDITY_DAYS = 3650;
/**
 * Total validity of a leaf certificate, from notBefore to notAfter: within the 398 days
 * browsers and Apple platforms accept (and far within the 825-day limit some clients enforce).
 */
export const LEAF_VALIDITY_DAYS = 398;
/** Leaf certificates start a day in the past, so that a client whose clock lags accepts them. */
const BACKDATE_MS = DAY_MS;
const CA_FILE = 'ca.pem';
const CA_KEY_FILE = 'ca-key.pem';

/** A certificate and its private key, PEM-encoded (each ends with a newline). */
export interface CertificateAndKey {
  cert: string;
  key: string;
}

export type { CertificateProfile, KeyType };

/** The host name a `wrong-host` certificate is issued for. */
export const WRONG_HOST_NAME = 'wrong-host.invalid';

/**
 * The test certificate authority: one CA that users trust once, kept in the data
 * directory, and the server and client certificates it issues.
 */
export interface TestAuthority {
  /** The CA certificate, PEM. */
  readonly caPem: string;
  /**
   * A server certificate of the given profile and key type, cached. For `incomplete-chain`
   * the certificate is the leaf alone: its issuer (see {@link intermediateCaPem}) is not sent.
   */
  serverCertificate(profile: CertificateProfile, keyType?: KeyType): Promise<CertificateAndKey>;
  /**
   * The intermediate CA (issued by the test CA) that issues the `incomplete-chain` leaf, PEM:
   * what a client needs besides the test CA to verify that profile.
   */
  intermediateCaPem(): Promise<string>;
  /** A client certificate for mutual TLS, issued by the CA. */
  issueClientCertificate(commonName: string): Promise<CertificateAndKey>;
  /** An S/MIME certificate for an address, issued by the CA: see {@link SmimeCertificateOptions}. */
  issueSmimeCertificate(address: string, options?: SmimeCertificateOptions): Promise<CertificateAndKey>;
}

/** The key of an S/MIME certificate. */
export type SmimeKeyType = 'rsa-2048' | 'rsa-3072' | 'ecdsa-p256';

/** Options of {@link TestAuthority.issueSmimeCertificate}. */
export interface SmimeCertificateOptions {
  /** Default `rsa-2048`: what `openssl cms -encrypt` and every mail client can encrypt to. */
  keyType?: SmimeKeyType;
}

interface Issuer {
  cert: ParsedCertificate;
  key: PrivateKey;
}

/** PEM text as every file and response carries it: ending with a newline, so bundles concatenate. */
export function withTrailingNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

/**
 * A self-signed CA. The test CA allows one intermediate below it (path length 1), for the
 * `incomplete-chain` profile; CAs made before that allowed none.
 */
async function createCa(commonName: string, pathLength: number): Promise<Issuer> {
  const { privateKey, publicKey } = await generateKey();
  const now = Date.now();
  const cert = issueCertificate({
    commonName,
    organization: 'Mailwright',
    publicKey,
    signingKey: privateKey.key,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + CA_VALIDITY_DAYS * DAY_MS),
    ca: { pathLength },
    keyUsage: ['keyCertSign', 'cRLSign'],
  });
  return { cert, key: privateKey };
}

function invalidCa(message: string, cause?: unknown): MailwrightError {
  return new MailwrightError(ErrorCode.TLS_CA_INVALID, message, cause === undefined ? {} : { cause });
}

function importCa(certPem: string, keyPem: string, certPath: string, keyPath: string): Issuer {
  let cert: ParsedCertificate;
  try {
    cert = parseCertificate(certPem);
  } catch (error) {
    throw invalidCa(`The test CA certificate ${certPath} is not a PEM certificate; remove ${certPath} and ${keyPath} to create a new CA.`, error);
  }
  let key: KeyObject;
  let matches: boolean;
  try {
    key = createPrivateKey(keyPem);
    matches = new NodeX509Certificate(certPem).checkPrivateKey(key);
  } catch (error) {
    throw invalidCa(`The test CA key ${keyPath} is not a PEM private key; remove ${certPath} and ${keyPath} to create a new CA.`, error);
  }
  if (!matches) {
    throw invalidCa(
      `The test CA key ${keyPath} does not belong to the certificate ${certPath} (was one of them replaced?). ` +
        `Restore the matching pair, or remove both files to create a new CA (clients must then trust the new ca.pem).`,
    );
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw invalidCa(`The test CA key ${keyPath} is not an ECDSA P-256 key, which the test CA must have; remove ${certPath} and ${keyPath} to create a new CA.`);
  }
  return { cert, key: { key, pem: withTrailingNewline(keyPem) } };
}

/**
 * Replaces a file all at once: the content goes to a temporary file in the same directory,
 * is flushed to disk, then renamed over the target, so that a crash leaves either the old
 * file or the new one, never a truncated one.
 */
export async function writeFileAtomic(path: string, content: string, mode = 0o644): Promise<void> {
  const temporary = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.chmod(mode);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  // The rename itself is durable once the directory is flushed (not possible everywhere).
  const directory = await open(dirname(path), 'r').catch(() => null);
  if (directory)
    await directory
      .sync()
      .catch(() => undefined)
      .finally(() => directory.close());
}

async function readIfPresent(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Options of {@link loadTestAuthority}. */
export interface TestAuthorityOptions {
  /** Where the CA is kept (`ca.pem`, `ca-key.pem`); created on first use. */
  dataDir: string;
  /** Host names the `valid` certificate covers, besides localhost, 127.0.0.1 and ::1. */
  hostnames: readonly string[];
}

/**
 * Loads the test CA from the data directory, creating and saving it on first start, so
 * that a CA users trusted once stays the same between runs.
 */
export async function loadTestAuthority(options: TestAuthorityOptions): Promise<TestAuthority> {
  await mkdir(options.dataDir, { recursive: true });
  const certPath = join(options.dataDir, CA_FILE);
  const keyPath = join(options.dataDir, CA_KEY_FILE);
  const [certPem, keyPem] = await Promise.all([readIfPresent(certPath), readIfPresent(keyPath)]);
  let ca: Issuer;
  if (certPem !== null && keyPem !== null && !expiresWithinADay(certPem)) {
    ca = importCa(certPem, keyPem, certPath, keyPath);
    // Files written before every PEM ended with a newline get one.
    if (!keyPem.endsWith('\n')) await writeFileAtomic(keyPath, withTrailingNewline(keyPem), 0o600);
    if (!certPem.endsWith('\n')) await writeFileAtomic(certPath, withTrailingNewline(certPem));
  } else {
    ca = await createCa(`Mailwright Test CA ${new Date().toISOString().slice(0, 10)}`, 1);
    // The key first: a crash in between leaves a key without its certificate, which is
    // replaced on the next start, never a certificate users trust without its key.
    await writeFileAtomic(keyPath, ca.key.pem, 0o600);
    await writeFileAtomic(certPath, ca.cert.pem);
  }
  return createAuthority(ca, options.hostnames);
}

function expiresWithinADay(certPem: string): boolean {
  try {
    return new Date(new NodeX509Certificate(certPem).validTo).getTime() <= Date.now() + DAY_MS;
  } catch {
    return false; // unreadable: importCa says so
  }
}

function createAuthority(ca: Issuer, extraHostnames: readonly string[]): TestAuthority {
  const validNames = [...new Set(['localhost', '127.0.0.1', '::1', ...extraHostnames])];
  const cache = new Map<string, Promise<CertificateAndKey>>();
  const untrustedCa = rememberSuccess(() => createCa('Mailwright Untrusted CA', 0));
  const intermediateCa = rememberSuccess(() => createIntermediate());

  async function issueLeaf(args: {
    issuer: Issuer;
    commonName: string;
    names: readonly string[];
    notBefore: Date;
    notAfter: Date;
    usage: 'server' | 'client';
    keyType?: KeyType;
    weakSignature?: boolean;
  }): Promise<CertificateAndKey> {
    const keyType = args.keyType ?? 'ecdsa-p256';
    const { privateKey, publicKey } = await generateKey(keyType);
    const cert = issueCertificate({
      commonName: args.commonName,
      publicKey,
      issuer: { certificate: args.issuer.cert, key: args.issuer.key.key },
      notBefore: args.notBefore,
      notAfter: args.notAfter,
      hash: args.weakSignature ? 'sha1' : 'sha256',
      // keyEncipherment is for RSA key transport (TLS_RSA_* suites); an EC key cannot do it.
      keyUsage: keyType === 'ecdsa-p256' ? ['digitalSignature'] : ['digitalSignature', 'keyEncipherment'],
      extendedKeyUsage: args.usage === 'server' ? 'serverAuth' : 'clientAuth',
      subjectAltNames: args.names,
    });
    return { cert: cert.pem, key: privateKey.pem };
  }

  async function issueSelfSigned(names: readonly string[], keyType: KeyType): Promise<CertificateAndKey> {
    const { privateKey, publicKey } = await generateKey(keyType);
    const notBefore = Date.now() - BACKDATE_MS;
    const cert = issueCertificate({
      commonName: names[0] ?? 'localhost',
      publicKey,
      signingKey: privateKey.key,
      notBefore: new Date(notBefore),
      notAfter: new Date(notBefore + LEAF_VALIDITY_DAYS * DAY_MS),
      subjectAltNames: names,
    });
    return { cert: cert.pem, key: privateKey.pem };
  }

  /** An intermediate CA issued by the test CA, kept in memory for the life of the server. */
  async function createIntermediate(): Promise<Issuer> {
    const { privateKey, publicKey } = await generateKey();
    const now = Date.now();
    const cert = issueCertificate({
      commonName: 'Mailwright Test Intermediate CA',
      organization: 'Mailwright',
      publicKey,
      issuer: { certificate: ca.cert, key: ca.key.key },
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + LEAF_VALIDITY_DAYS * DAY_MS),
      ca: { pathLength: 0 },
      keyUsage: ['keyCertSign', 'cRLSign'],
    });
    return { cert, key: privateKey };
  }

  function intermediate(): Promise<Issuer> {
    if (ca.cert.pathLength === 0) {
      return Promise.reject(
        new MailwrightError(
          ErrorCode.INVALID_REQUEST,
          'The test CA in the data directory was created before intermediate CAs were supported (its path length is 0), so it cannot issue ' +
            'the incomplete-chain profile. Remove ca.pem and ca-key.pem from the data directory to create a new CA (clients must then trust the new ca.pem).',
          { statusCode: 400 },
        ),
      );
    }
    return intermediateCa();
  }

  function issueProfile(profile: CertificateProfile, keyType: KeyType): Promise<CertificateAndKey> {
    const notBefore = Date.now() - BACKDATE_MS;
    const current = { notBefore: new Date(notBefore), notAfter: new Date(notBefore + LEAF_VALIDITY_DAYS * DAY_MS) };
    const commonName = validNames[0] ?? 'localhost';
    const valid = { commonName, names: validNames, usage: 'server' as const, keyType };
    switch (profile) {
      case 'valid':
        return issueLeaf({ issuer: ca, ...valid, ...current });
      case 'expired':
        return issueLeaf({ issuer: ca, ...valid, notBefore: new Date(notBefore - 60 * DAY_MS), notAfter: new Date(notBefore - 30 * DAY_MS) });
      case 'not-yet-valid':
        return issueLeaf({ issuer: ca, ...valid, notBefore: new Date(notBefore + 30 * DAY_MS), notAfter: new Date(notBefore + 60 * DAY_MS) });
      case 'wrong-host':
        return issueLeaf({ issuer: ca, ...valid, commonName: WRONG_HOST_NAME, names: [WRONG_HOST_NAME], ...current });
      case 'self-signed':
        return issueSelfSigned(validNames, keyType);
      case 'unknown-ca':
        return untrustedCa().then((issuer) => issueLeaf({ issuer, ...valid, ...current }));
      case 'weak-signature':
        return issueLeaf({ issuer: ca, ...valid, ...current, weakSignature: true });
      case 'incomplete-chain':
        return intermediate().then((issuer) => issueLeaf({ issuer, ...valid, ...current }));
    }
  }

  return {
    caPem: ca.cert.pem,
    serverCertificate(profile, keyType = 'ecdsa-p256') {
      const cacheKey = `${profile}/${keyType}`;
      let issued = cache.get(cacheKey);
      if (!issued) {
        issued = issueProfile(profile, keyType);
        cache.set(cacheKey, issued);
        // A failure is not kept: the next listener asks again.
        issued.catch(() => cache.delete(cacheKey));
      }
      return issued;
    },
    async intermediateCaPem() {
      return (await intermediate()).cert.pem;
    },
    async issueSmimeCertificate(address, { keyType = 'rsa-2048' } = {}) {
      // The e-mail protection EKU and the address as an rfc822Name (RFC 8550); an RSA key also
      // does key transport (keyEncipherment), an EC key only signs (and agrees keys).
      const { privateKey, publicKey } =
        keyType === 'ecdsa-p256'
          ? await generateKeyPair('ec', { namedCurve: 'P-256' })
          : await generateKeyPair('rsa', { modulusLength: keyType === 'rsa-3072' ? 3072 : 2048, publicExponent: 0x10001 });
      const notBefore = Date.now() - BACKDATE_MS;
      const cert = issueCertificate({
        commonName: address,
        publicKey,
        issuer: { certificate: ca.cert, key: ca.key.key },
        notBefore: new Date(notBefore),
        notAfter: new Date(notBefore + LEAF_VALIDITY_DAYS * DAY_MS),
        keyUsage: keyType === 'ecdsa-p256' ? ['digitalSignature', 'keyAgreement'] : ['digitalSignature', 'keyEncipherment'],
        extendedKeyUsage: 'emailProtection',
        subjectAltNames: [address],
      });
      return { cert: cert.pem, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
    },
    issueClientCertificate(commonName) {
      const notBefore = Date.now() - BACKDATE_MS;
      return issueLeaf({
        issuer: ca,
        commonName,
        names: [],
        notBefore: new Date(notBefore),
        notAfter: new Date(notBefore + LEAF_VALIDITY_DAYS * DAY_MS),
        usage: 'client',
      });
    },
  };
}
