import 'reflect-metadata';
import { createPrivateKey, randomBytes, webcrypto, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { ErrorCode, MailwrightError, type CertificateProfile, type KeyType } from '@mailwright/core';
import { rememberSuccess } from './remember-success.js';

// Node's webcrypto is the Web Crypto API; only its TypeScript type differs from the DOM's.
x509.cryptoProvider.set(webcrypto as never);

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** The `weak-signature` profile: the CA signs with SHA-1, which clients refuse since 2017. */
const WEAK_SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-1' } as const;
const RSA_PUBLIC_EXPONENT = new Uint8Array([1, 0, 1]);
/** Key generation parameters (Web Crypto) of each listener key type. */
const LEAF_KEY_ALGORITHMS: Record<KeyType, webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams> = {
  'ecdsa-p256': KEY_ALGORITHM,
  'rsa-2048': { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: RSA_PUBLIC_EXPONENT, hash: 'SHA-256' },
  'rsa-1024': { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: RSA_PUBLIC_EXPONENT, hash: 'SHA-256' },
};
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
}

interface KeyPairPem {
  keys: webcrypto.CryptoKeyPair;
  keyPem: string;
}

interface Issuer {
  cert: x509.X509Certificate;
  key: KeyPairPem;
}

/** PEM text as every file and response carries it: ending with a newline, so bundles concatenate. */
export function withTrailingNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

function toPem(cert: x509.X509Certificate): string {
  return withTrailingNewline(cert.toString('pem'));
}

async function generateKeyPair(keyType: KeyType = 'ecdsa-p256'): Promise<KeyPairPem> {
  const keys = (await webcrypto.subtle.generateKey(LEAF_KEY_ALGORITHMS[keyType], true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keys, keyPem: withTrailingNewline(x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')) };
}

/** The signature algorithm a key signs with (a self-signed certificate signs with its own key). */
function signingAlgorithmOf(keyType: KeyType): webcrypto.EcdsaParams | webcrypto.RsaHashedImportParams {
  return keyType === 'ecdsa-p256' ? SIGNING_ALGORITHM : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // a positive INTEGER
  return Buffer.from(bytes).toString('hex');
}

function isIpAddress(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(':');
}

function subjectAltNames(names: readonly string[]): x509.SubjectAlternativeNameExtension {
  return new x509.SubjectAlternativeNameExtension(names.map((name) => ({ type: isIpAddress(name) ? ('ip' as const) : ('dns' as const), value: name })));
}

/**
 * A self-signed CA. The test CA allows one intermediate below it (path length 1), for the
 * `incomplete-chain` profile; CAs made before that allowed none.
 */
async function createCa(commonName: string, pathLength: number): Promise<Issuer> {
  const key = await generateKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${commonName}, O=Mailwright`,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + CA_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys: key.keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, pathLength, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
    ],
  });
  return { cert, key };
}

function invalidCa(message: string, cause?: unknown): MailwrightError {
  return new MailwrightError(ErrorCode.TLS_CA_INVALID, message, cause === undefined ? {} : { cause });
}

async function importCa(certPem: string, keyPem: string, certPath: string, keyPath: string): Promise<Issuer> {
  let nodeCert: NodeX509Certificate;
  let cert: x509.X509Certificate;
  try {
    nodeCert = new NodeX509Certificate(certPem);
    cert = new x509.X509Certificate(certPem);
  } catch (error) {
    throw invalidCa(`The test CA certificate ${certPath} is not a PEM certificate; remove ${certPath} and ${keyPath} to create a new CA.`, error);
  }
  let matches: boolean;
  try {
    matches = nodeCert.checkPrivateKey(createPrivateKey(keyPem));
  } catch (error) {
    throw invalidCa(`The test CA key ${keyPath} is not a PEM private key; remove ${certPath} and ${keyPath} to create a new CA.`, error);
  }
  if (!matches) {
    throw invalidCa(
      `The test CA key ${keyPath} does not belong to the certificate ${certPath} (was one of them replaced?). ` +
        `Restore the matching pair, or remove both files to create a new CA (clients must then trust the new ca.pem).`,
    );
  }
  try {
    const privateKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(keyPem), KEY_ALGORITHM, true, ['sign']);
    const publicKey = await cert.publicKey.export(KEY_ALGORITHM, ['verify'], webcrypto as never);
    return { cert, key: { keys: { privateKey, publicKey }, keyPem: withTrailingNewline(keyPem) } };
  } catch (error) {
    throw invalidCa(
      `The test CA key ${keyPath} is not an ECDSA P-256 key, which the test CA must have; remove ${certPath} and ${keyPath} to create a new CA.`,
      error,
    );
  }
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
    ca = await importCa(certPem, keyPem, certPath, keyPath);
    // Files written before every PEM ended with a newline get one.
    if (!keyPem.endsWith('\n')) await writeFileAtomic(keyPath, withTrailingNewline(keyPem), 0o600);
    if (!certPem.endsWith('\n')) await writeFileAtomic(certPath, withTrailingNewline(certPem));
  } else {
    ca = await createCa(`Mailwright Test CA ${new Date().toISOString().slice(0, 10)}`, 1);
    // The key first: a crash in between leaves a key without its certificate, which is
    // replaced on the next start, never a certificate users trust without its key.
    await writeFileAtomic(keyPath, ca.key.keyPem, 0o600);
    await writeFileAtomic(certPath, toPem(ca.cert));
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

/** The path length the CA allows below itself; null when it sets no limit. */
function pathLengthOf(cert: x509.X509Certificate): number | null {
  const constraints = cert.getExtension(x509.BasicConstraintsExtension);
  return constraints?.pathLength ?? null;
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
    const key = await generateKeyPair(keyType);
    // keyEncipherment is for RSA key transport (TLS_RSA_* suites); an EC key cannot do it.
    const usage = x509.KeyUsageFlags.digitalSignature | (keyType === 'ecdsa-p256' ? 0 : x509.KeyUsageFlags.keyEncipherment);
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usage, true),
      new x509.ExtendedKeyUsageExtension([args.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(args.issuer.cert),
    ];
    if (args.names.length > 0) extensions.push(subjectAltNames(args.names));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${args.commonName.replace(/[,+="\\<>;]/g, '\\$&')}`,
      issuer: args.issuer.cert.subject,
      notBefore: args.notBefore,
      notAfter: args.notAfter,
      signingAlgorithm: args.weakSignature ? WEAK_SIGNING_ALGORITHM : SIGNING_ALGORITHM,
      publicKey: key.keys.publicKey,
      signingKey: args.issuer.key.keys.privateKey,
      extensions,
    });
    return { cert: toPem(cert), key: key.keyPem };
  }

  async function issueSelfSigned(names: readonly string[], keyType: KeyType): Promise<CertificateAndKey> {
    const key = await generateKeyPair(keyType);
    const notBefore = Date.now() - BACKDATE_MS;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: `CN=${names[0] ?? 'localhost'}`,
      notBefore: new Date(notBefore),
      notAfter: new Date(notBefore + LEAF_VALIDITY_DAYS * DAY_MS),
      signingAlgorithm: signingAlgorithmOf(keyType),
      keys: key.keys,
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true), subjectAltNames(names)],
    });
    return { cert: toPem(cert), key: key.keyPem };
  }

  /** An intermediate CA issued by the test CA, kept in memory for the life of the server. */
  async function createIntermediate(): Promise<Issuer> {
    const key = await generateKeyPair();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: 'CN=Mailwright Test Intermediate CA, O=Mailwright',
      issuer: ca.cert.subject,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + LEAF_VALIDITY_DAYS * DAY_MS),
      signingAlgorithm: SIGNING_ALGORITHM,
      publicKey: key.keys.publicKey,
      signingKey: ca.key.keys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      ],
    });
    return { cert, key };
  }

  function intermediate(): Promise<Issuer> {
    if (pathLengthOf(ca.cert) === 0) {
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
    caPem: toPem(ca.cert),
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
      return toPem((await intermediate()).cert);
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
