import 'reflect-metadata';
import { webcrypto, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

// Node's webcrypto is the Web Crypto API; only its TypeScript type differs from the DOM's.
x509.cryptoProvider.set(webcrypto as never);

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
const CA_VALIDITY_DAYS = 3650;
const LEAF_VALIDITY_DAYS = 825;
const CA_FILE = 'ca.pem';
const CA_KEY_FILE = 'ca-key.pem';

/** A certificate and its private key, PEM-encoded. */
export interface CertificateAndKey {
  cert: string;
  key: string;
}

/** The server certificate profiles of the TLS lab. */
export type CertificateProfile = 'valid' | 'self-signed' | 'expired' | 'not-yet-valid' | 'wrong-host';

/** The host name a `wrong-host` certificate is issued for. */
export const WRONG_HOST_NAME = 'wrong-host.invalid';

/**
 * The test certificate authority: one CA that users trust once, kept in the data
 * directory, and the server and client certificates it issues.
 */
export interface TestAuthority {
  /** The CA certificate, PEM. */
  readonly caPem: string;
  /** A server certificate of the given profile for the given host names, cached. */
  serverCertificate(profile: CertificateProfile): Promise<CertificateAndKey>;
  /** A client certificate for mutual TLS, issued by the CA. */
  issueClientCertificate(commonName: string): Promise<CertificateAndKey>;
}

interface KeyPairPem {
  keys: webcrypto.CryptoKeyPair;
  keyPem: string;
}

async function generateKeyPair(): Promise<KeyPairPem> {
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keys, keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
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

async function createCa(): Promise<{ cert: x509.X509Certificate; key: KeyPairPem }> {
  const key = await generateKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=Mailwright Test CA ${new Date(now).toISOString().slice(0, 10)}, O=Mailwright`,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + CA_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys: key.keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
    ],
  });
  return { cert, key };
}

async function importCa(certPem: string, keyPem: string): Promise<{ cert: x509.X509Certificate; key: KeyPairPem }> {
  const cert = new x509.X509Certificate(certPem);
  const privateKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(keyPem), KEY_ALGORITHM, true, ['sign']);
  const publicKey = await cert.publicKey.export(KEY_ALGORITHM, ['verify'], webcrypto as never);
  return { cert, key: { keys: { privateKey, publicKey }, keyPem } };
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
  let ca: { cert: x509.X509Certificate; key: KeyPairPem };
  if (certPem !== null && keyPem !== null && new Date(new NodeX509Certificate(certPem).validTo).getTime() > Date.now() + DAY_MS) {
    ca = await importCa(certPem, keyPem);
  } else {
    ca = await createCa();
    await writeFile(keyPath, ca.key.keyPem, { mode: 0o600 });
    await chmod(keyPath, 0o600);
    await writeFile(certPath, ca.cert.toString('pem'));
  }
  return createAuthority(ca, options.hostnames);
}

function createAuthority(ca: { cert: x509.X509Certificate; key: KeyPairPem }, extraHostnames: readonly string[]): TestAuthority {
  const validNames = [...new Set(['localhost', '127.0.0.1', '::1', ...extraHostnames])];
  const cache = new Map<CertificateProfile, Promise<CertificateAndKey>>();

  async function issueLeaf(args: {
    commonName: string;
    names: readonly string[];
    notBefore: Date;
    notAfter: Date;
    usage: 'server' | 'client';
  }): Promise<CertificateAndKey> {
    const key = await generateKeyPair();
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([args.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ];
    if (args.names.length > 0) extensions.push(subjectAltNames(args.names));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${args.commonName.replace(/[,+="\\<>;]/g, '\\$&')}`,
      issuer: ca.cert.subject,
      notBefore: args.notBefore,
      notAfter: args.notAfter,
      signingAlgorithm: SIGNING_ALGORITHM,
      publicKey: key.keys.publicKey,
      signingKey: ca.key.keys.privateKey,
      extensions,
    });
    return { cert: cert.toString('pem'), key: key.keyPem };
  }

  async function issueSelfSigned(names: readonly string[]): Promise<CertificateAndKey> {
    const key = await generateKeyPair();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: `CN=${names[0] ?? 'localhost'}`,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + LEAF_VALIDITY_DAYS * DAY_MS),
      signingAlgorithm: SIGNING_ALGORITHM,
      keys: key.keys,
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true), subjectAltNames(names)],
    });
    return { cert: cert.toString('pem'), key: key.keyPem };
  }

  function issueProfile(profile: CertificateProfile): Promise<CertificateAndKey> {
    const now = Date.now();
    const commonName = validNames[0] ?? 'localhost';
    switch (profile) {
      case 'valid':
        return issueLeaf({
          commonName,
          names: validNames,
          notBefore: new Date(now - DAY_MS),
          notAfter: new Date(now + LEAF_VALIDITY_DAYS * DAY_MS),
          usage: 'server',
        });
      case 'expired':
        return issueLeaf({ commonName, names: validNames, notBefore: new Date(now - 60 * DAY_MS), notAfter: new Date(now - 30 * DAY_MS), usage: 'server' });
      case 'not-yet-valid':
        return issueLeaf({ commonName, names: validNames, notBefore: new Date(now + 30 * DAY_MS), notAfter: new Date(now + 60 * DAY_MS), usage: 'server' });
      case 'wrong-host':
        return issueLeaf({
          commonName: WRONG_HOST_NAME,
          names: [WRONG_HOST_NAME],
          notBefore: new Date(now - DAY_MS),
          notAfter: new Date(now + LEAF_VALIDITY_DAYS * DAY_MS),
          usage: 'server',
        });
      case 'self-signed':
        return issueSelfSigned(validNames);
    }
  }

  return {
    caPem: ca.cert.toString('pem'),
    serverCertificate(profile) {
      let issued = cache.get(profile);
      if (!issued) {
        issued = issueProfile(profile);
        cache.set(profile, issued);
      }
      return issued;
    },
    issueClientCertificate(commonName) {
      const now = Date.now();
      return issueLeaf({ commonName, names: [], notBefore: new Date(now - DAY_MS), notAfter: new Date(now + LEAF_VALIDITY_DAYS * DAY_MS), usage: 'client' });
    },
  };
}
