import { createHash, generateKeyPair as generateKeyPairCallback, randomBytes, sign, X509Certificate as NodeX509Certificate, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_emailProtection,
  id_kp_serverAuth,
} from '@peculiar/asn1-x509';
import type { KeyType } from '@mailwright/core';

// Certificates are encoded with @peculiar/asn1-x509 (schemas only) and keys made and used with
// node:crypto: no Reflect polyfill (which @peculiar/x509 needs for tsyringe) is installed in the
// process that loads the server, which may be a user's test process.

const generateKeyPair = promisify(generateKeyPairCallback);

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  ecdsaWithSha1: '1.2.840.10045.4.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha1WithRsa: '1.2.840.113549.1.1.5',
  sha256WithRsa: '1.2.840.113549.1.1.11',
} as const;

/** A private key and its PEM (PKCS #8, ending with a newline). */
export interface PrivateKey {
  key: KeyObject;
  pem: string;
}

/** A certificate as issued or read: its PEM and what issuing below it needs. */
export interface ParsedCertificate {
  /** PEM, ending with a newline. */
  pem: string;
  subject: Name;
  publicKey: KeyObject;
  /** The path length a CA allows below itself; null when it sets none (or is no CA). */
  pathLength: number | null;
}

/** Makes a key pair of a listener key type (off the event loop). */
export async function generateKey(keyType: KeyType = 'ecdsa-p256'): Promise<{ privateKey: PrivateKey; publicKey: KeyObject }> {
  const { privateKey, publicKey } =
    keyType === 'ecdsa-p256'
      ? await generateKeyPair('ec', { namedCurve: 'P-256' })
      : await generateKeyPair('rsa', { modulusLength: keyType === 'rsa-2048' ? 2048 : 1024, publicExponent: 0x10001 });
  return { privateKey: { key: privateKey, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }, publicKey };
}

/** Reads a PEM certificate; throws when it is not one. */
export function parseCertificate(pem: string): ParsedCertificate {
  const node = new NodeX509Certificate(pem);
  const tbs = AsnConvert.parse(node.raw, Certificate).tbsCertificate;
  const constraints = tbs.extensions?.find((extension) => extension.extnID === id_ce_basicConstraints);
  const pathLength = constraints ? (AsnConvert.parse(constraints.extnValue, BasicConstraints).pathLenConstraint ?? null) : null;
  return { pem: node.toString(), subject: tbs.subject, publicKey: node.publicKey, pathLength };
}

function distinguishedName(commonName: string, organization?: string): Name {
  const attribute = (type: string, value: string): RelativeDistinguishedName =>
    new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) })]);
  return new Name([attribute(OID.commonName, commonName), ...(organization === undefined ? [] : [attribute(OID.organization, organization)])]);
}

/** RFC 5280 section 4.2.1.2, method 1: the SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(publicKey: KeyObject): ArrayBuffer {
  const info = AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
  const digest = createHash('sha1').update(new Uint8Array(info.subjectPublicKey)).digest();
  return digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.length);
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/** A positive serial number of 16 random bytes, minimally encoded (no leading zero byte). */
function randomSerial(): ArrayBuffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 1;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
}

function isIpAddress(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(':');
}

/** What a certificate says and who signs it. */
export interface CertificateRequest {
  commonName: string;
  organization?: string;
  publicKey: KeyObject;
  /** The issuer's certificate and key; the certificate is self-signed (with `signingKey`) when absent. */
  issuer?: { certificate: ParsedCertificate; key: KeyObject };
  /** The key of a self-signed certificate. */
  signingKey?: KeyObject;
  notBefore: Date;
  notAfter: Date;
  /** The signature's hash; `sha1` for the weak-signature profile. Default `sha256`. */
  hash?: 'sha256' | 'sha1';
  /** A CA, allowing this many CAs below it; otherwise an end entity. */
  ca?: { pathLength: number };
  /** Key usages (a critical extension); none when empty or absent. */
  keyUsage?: (keyof typeof KeyUsageFlags)[];
  extendedKeyUsage?: 'serverAuth' | 'clientAuth' | 'emailProtection';
  /** DNS names, IP addresses and e-mail addresses (rfc822Name). */
  subjectAltNames?: readonly string[];
}

/** Issues (encodes and signs) an X.509 v3 certificate. */
export function issueCertificate(request: CertificateRequest): ParsedCertificate {
  const signingKey = request.issuer?.key ?? request.signingKey;
  if (!signingKey) throw new TypeError('A certificate needs an issuer or a signing key');
  const hash = request.hash ?? 'sha256';
  const rsa = signingKey.asymmetricKeyType === 'rsa';
  const signatureAlgorithm = rsa
    ? new AlgorithmIdentifier({ algorithm: hash === 'sha1' ? OID.sha1WithRsa : OID.sha256WithRsa, parameters: null })
    : new AlgorithmIdentifier({ algorithm: hash === 'sha1' ? OID.ecdsaWithSha1 : OID.ecdsaWithSha256 });
  const subject = distinguishedName(request.commonName, request.organization);
  const usage = (request.keyUsage ?? []).reduce((flags, name) => flags | KeyUsageFlags[name], 0);
  const extensions = [
    extension(id_ce_basicConstraints, true, new BasicConstraints(request.ca ? { cA: true, pathLenConstraint: request.ca.pathLength } : { cA: false })),
  ];
  if (usage !== 0) extensions.push(extension(id_ce_keyUsage, true, new KeyUsage(usage)));
  if (request.extendedKeyUsage)
    extensions.push(
      extension(
        id_ce_extKeyUsage,
        false,
        new ExtendedKeyUsage([
          { serverAuth: id_kp_serverAuth, clientAuth: id_kp_clientAuth, emailProtection: id_kp_emailProtection }[request.extendedKeyUsage],
        ]),
      ),
    );
  if (request.ca) extensions.push(extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(request.publicKey))));
  if (request.issuer)
    extensions.push(
      extension(
        id_ce_authorityKeyIdentifier,
        false,
        new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyIdentifier(request.issuer.certificate.publicKey)) }),
      ),
    );
  if (request.subjectAltNames?.length)
    extensions.push(
      extension(
        id_ce_subjectAltName,
        false,
        new SubjectAlternativeName(
          request.subjectAltNames.map(
            (name) => new GeneralName(name.includes('@') ? { rfc822Name: name } : isIpAddress(name) ? { iPAddress: name } : { dNSName: name }),
          ),
        ),
      ),
    );
  const tbsCertificate = new TBSCertificate({
    version: Version.v3,
    serialNumber: randomSerial(),
    signature: signatureAlgorithm,
    issuer: request.issuer?.certificate.subject ?? subject,
    validity: new Validity({ notBefore: request.notBefore, notAfter: request.notAfter }),
    subject,
    subjectPublicKeyInfo: AsnConvert.parse(request.publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo),
    extensions: new Extensions(extensions),
  });
  const tbs = Buffer.from(AsnConvert.serialize(tbsCertificate));
  const signature = sign(hash, tbs, rsa ? signingKey : { key: signingKey, dsaEncoding: 'der' });
  const der = AsnConvert.serialize(
    new Certificate({
      tbsCertificate,
      signatureAlgorithm,
      signatureValue: signature.buffer.slice(signature.byteOffset, signature.byteOffset + signature.length),
    }),
  );
  return parseCertificate(new NodeX509Certificate(Buffer.from(der)).toString());
}
