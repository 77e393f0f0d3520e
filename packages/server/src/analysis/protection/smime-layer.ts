import { constants, createDecipheriv, createHash, createPrivateKey, privateDecrypt, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { EncryptionRecipient, EncryptionVerdict, SignatureVerdict } from '@mailwright/core';
import { decodeBody, readMimeEntity, splitMultipart, type MimeEntity } from './mime-entity.js';
import {
  unreadableSignature,
  type LayerLimits,
  type LayerResult,
  type ProtectionKeys,
  type ProtectionLayerReader,
  type SmimeKeyMaterial,
} from './protection-layer.js';
import { certificateAddress } from './key-registry.js';

pkijs.setEngine(
  'node',
  new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'] }),
);

const OID = {
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  authEnvelopedData: '1.2.840.113549.1.9.16.1.23',
  signingTime: '1.2.840.113549.1.9.5',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaOaep: '1.2.840.113549.1.1.7',
  subjectKeyIdentifier: '2.5.29.14',
} as const;

const DIGESTS: Record<string, { name: string; node: string }> = {
  '1.3.14.3.2.26': { name: 'SHA-1', node: 'sha1' },
  '2.16.840.1.101.3.4.2.4': { name: 'SHA-224', node: 'sha224' },
  '2.16.840.1.101.3.4.2.1': { name: 'SHA-256', node: 'sha256' },
  '2.16.840.1.101.3.4.2.2': { name: 'SHA-384', node: 'sha384' },
  '2.16.840.1.101.3.4.2.3': { name: 'SHA-512', node: 'sha512' },
  '1.2.840.113549.2.5': { name: 'MD5', node: 'md5' },
};

/** Signature algorithms by OID prefix: the exact OID, or a family. */
function signatureAlgorithmName(oid: string): string {
  if (oid === '1.2.840.113549.1.1.10') return 'RSA-PSS';
  if (oid.startsWith('1.2.840.113549.1.1.')) return 'RSA';
  if (oid.startsWith('1.2.840.10045.')) return 'ECDSA';
  if (oid === '1.3.101.112' || oid === '1.3.101.113') return 'EdDSA';
  if (oid.startsWith('1.2.840.10040.4.')) return 'DSA';
  return oid;
}

interface ContentCipher {
  name: string;
  /** node:crypto's cipher, or null when it cannot be decrypted here. */
  node: string | null;
  mode: 'cbc' | 'gcm';
  /** Weak choice to warn about. */
  warning?: string;
}

const CIPHERS: Record<string, ContentCipher> = {
  '2.16.840.1.101.3.4.1.2': { name: 'AES-128-CBC', node: 'aes-128-cbc', mode: 'cbc' },
  '2.16.840.1.101.3.4.1.22': { name: 'AES-192-CBC', node: 'aes-192-cbc', mode: 'cbc' },
  '2.16.840.1.101.3.4.1.42': { name: 'AES-256-CBC', node: 'aes-256-cbc', mode: 'cbc' },
  '2.16.840.1.101.3.4.1.6': { name: 'AES-128-GCM', node: 'aes-128-gcm', mode: 'gcm' },
  '2.16.840.1.101.3.4.1.26': { name: 'AES-192-GCM', node: 'aes-192-gcm', mode: 'gcm' },
  '2.16.840.1.101.3.4.1.46': { name: 'AES-256-GCM', node: 'aes-256-gcm', mode: 'gcm' },
  '1.2.840.113549.3.7': { name: '3DES-CBC', node: 'des-ede3-cbc', mode: 'cbc', warning: '3DES' },
  '1.3.14.3.2.7': { name: 'DES-CBC', node: null, mode: 'cbc', warning: 'DES' },
  '1.2.840.113549.3.2': { name: 'RC2-CBC', node: null, mode: 'cbc', warning: 'RC2' },
};

const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

const hex = (bytes: ArrayBuffer | Uint8Array): string => Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString('hex');

/** A distinguished name as `CN=…, O=…`. */
function nameText(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((item) => `${ATTRIBUTE_NAMES[item.type] ?? item.type}=${String((item.value.valueBlock as { value?: unknown }).value ?? '')}`)
    .join(', ');
}

/** Bytes of an OCTET STRING, joined when it is sent in pieces (BER constructed). */
function octets(value: asn1js.OctetString): Buffer {
  if (value.idBlock.isConstructed) {
    return Buffer.concat(value.valueBlock.value.map((piece) => octets(piece as asn1js.OctetString)));
  }
  return Buffer.from(value.valueBlock.valueHexView);
}

function toDer(certificate: pkijs.Certificate): Buffer {
  return Buffer.from(certificate.toSchema().toBER(false));
}

function pemToDer(pem: string): Buffer[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => Buffer.from(block.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
}

function parseCertificate(der: Buffer): pkijs.Certificate {
  return pkijs.Certificate.fromBER(new Uint8Array(der));
}

/** Parses registered certificates once per key set (a key set is replaced, never changed). */
const parsedKeys = new WeakMap<
  ProtectionKeys,
  { anchors: pkijs.Certificate[]; recipients: { material: SmimeKeyMaterial; certificate: pkijs.Certificate; der: Buffer }[] }
>();
function parsedOf(keys: ProtectionKeys) {
  let parsed = parsedKeys.get(keys);
  if (!parsed) {
    const anchors: pkijs.Certificate[] = [];
    for (const pem of keys.smimeTrustAnchors) for (const der of pemToDer(pem)) anchors.push(parseCertificate(der));
    const recipients = keys.smime.flatMap((material) =>
      pemToDer(material.certificate)
        .slice(0, 1)
        .map((der) => ({ material, certificate: parseCertificate(der), der })),
    );
    parsed = { anchors, recipients };
    parsedKeys.set(keys, parsed);
  }
  return parsed;
}

function rsaBits(certificate: X509Certificate): number | null {
  const key = certificate.publicKey;
  return key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss' ? (key.asymmetricKeyDetails?.modulusLength ?? null) : null;
}

function smimeType(entity: MimeEntity): string {
  return (entity.params['smime-type'] ?? '').toLowerCase();
}

const isSignatureProtocol = (protocol: string | undefined): boolean => protocol !== undefined && /^application\/(x-)?pkcs7-signature$/i.test(protocol.trim());

/**
 * The most ASN.1 nodes one CMS structure may have: enough for a large streamed (chunked)
 * content and hundreds of recipients, and a bound on what a hostile one costs.
 */
const MAX_ASN1_NODES = 200_000;

/** Reads a DER/BER ContentInfo; throws with a short reason. */
function readContentInfo(bytes: Buffer): pkijs.ContentInfo {
  if (bytes.length === 0) throw new Error('the CMS structure is empty');
  // The content may be as large as the message (asn1js stops at 16 MiB by default).
  const parsed = asn1js.fromBER(new Uint8Array(bytes), { maxContentLength: bytes.length, maxNodes: MAX_ASN1_NODES });
  if (parsed.offset === -1) throw new Error(`the CMS structure cannot be read (${parsed.result.error || 'not BER'})`);
  try {
    return new pkijs.ContentInfo({ schema: parsed.result });
  } catch (error) {
    throw new Error(`the CMS structure cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Signatures

async function verifySigners(
  signed: pkijs.SignedData,
  data: Buffer | null,
  keys: ProtectionKeys,
  limits: LayerLimits,
  warnings: Set<string>,
): Promise<SignatureVerdict[]> {
  const { anchors, recipients } = parsedOf(keys);
  const registered = new Set(recipients.map((recipient) => createHash('sha256').update(recipient.der).digest('hex')));
  const embedded = (signed.certificates ?? []).filter((item): item is pkijs.Certificate => item instanceof pkijs.Certificate);
  const verdicts: SignatureVerdict[] = [];
  for (let index = 0; index < signed.signerInfos.length && index < limits.maxRecipients; index++) {
    if (limits.signal.aborted) break;
    const signerInfo = signed.signerInfos[index] as pkijs.SignerInfo;
    const digest = DIGESTS[signerInfo.digestAlgorithm.algorithmId];
    const digestAlgorithm = digest?.name ?? signerInfo.digestAlgorithm.algorithmId;
    if (digestAlgorithm === 'SHA-1' || digestAlgorithm === 'MD5') warnings.add(digestAlgorithm);
    const signingTime = signerInfo.signedAttrs?.attributes.find((attribute) => attribute.type === OID.signingTime)?.values[0] as
      asn1js.UTCTime | asn1js.GeneralizedTime | undefined;
    let signedAt: string | null = null;
    try {
      signedAt = signingTime ? signingTime.toDate().toISOString() : null;
    } catch {
      signedAt = null;
    }
    const verdict: SignatureVerdict = {
      valid: false,
      trusted: false,
      signer: null,
      subject: null,
      fingerprint: null,
      keyId: null,
      signedAt,
      digestAlgorithm,
      algorithm: signatureAlgorithmName(signerInfo.signatureAlgorithm.algorithmId),
      reason: null,
    };
    let result: pkijs.SignedDataVerifyResult;
    try {
      result = await signed.verify({ signer: index, ...(data ? { data: toArrayBuffer(data) } : {}), checkChain: false, extendedMode: true });
    } catch (error) {
      result = error as pkijs.SignedDataVerifyResult;
    }
    const certificate = result.signerCertificate ?? null;
    if (certificate) {
      const der = toDer(certificate);
      const node = new X509Certificate(der);
      verdict.subject = nameText(certificate.subject);
      verdict.signer = certificateAddress(node) ?? verdict.subject;
      verdict.fingerprint = createHash('sha256').update(der).digest('hex');
      const bits = rsaBits(node);
      if (bits !== null && bits < 2048) warnings.add(`RSA-${bits}`);
    }
    verdict.valid = result.signatureVerified === true;
    if (!verdict.valid) {
      verdict.reason = certificate
        ? `the signature does not verify over the signed content${result.message ? ` (${result.message})` : ''}`
        : `the signer's certificate is not in the message${result.message ? ` (${result.message})` : ''}`;
    }
    if (certificate && verdict.fingerprint) {
      if (registered.has(verdict.fingerprint)) verdict.trusted = true;
      else {
        const chain = new pkijs.CertificateChainValidationEngine({
          trustedCerts: anchors,
          certs: [...embedded.filter((item) => item !== certificate), certificate],
        });
        try {
          const checked = await chain.verify();
          verdict.trusted = checked.result;
          if (!checked.result) verdict.reason = joinReason(verdict.reason, `the signer is not trusted: ${checked.resultMessage || 'no chain to a trusted CA'}`);
        } catch (error) {
          verdict.reason = joinReason(verdict.reason, `the signer is not trusted: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
    verdicts.push(verdict);
  }
  return verdicts;
}

function joinReason(first: string | null, second: string): string {
  return first === null ? second : `${first}; ${second}`;
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

async function readSigned(info: pkijs.ContentInfo, detached: Buffer | null, keys: ProtectionKeys, limits: LayerLimits): Promise<LayerResult> {
  const warnings = new Set<string>();
  const signed = new pkijs.SignedData({ schema: info.content });
  const eContent = signed.encapContentInfo.eContent;
  const inner = detached ?? (eContent ? octets(eContent) : null);
  if (signed.signerInfos.length === 0) {
    return {
      kind: 'smime',
      signatures: [unreadableSignature('the SignedData has no signer')],
      encryption: null,
      signedInside: false,
      warnings: [],
      inner,
      reason: null,
    };
  }
  let signatures = await verifySigners(signed, detached, keys, limits, warnings);
  // A signature is made over the canonical (CRLF) form: content that lost its CRs on the way is tried that way too.
  if (detached && signatures.some((signature) => !signature.valid) && /(^|[^\r])\n/.test(detached.toString('latin1'))) {
    const canonical = Buffer.from(detached.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
    const retried = await verifySigners(signed, canonical, keys, limits, new Set());
    if (retried.every((signature) => signature.valid)) signatures = retried;
  }
  const skipped = signed.signerInfos.length - signatures.length;
  return {
    kind: 'smime',
    signatures,
    encryption: null,
    signedInside: false,
    warnings: [...warnings],
    inner,
    reason: skipped > 0 ? `${skipped} more signers were not examined` : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Encryption

/** AuthEnvelopedData (RFC 5083), read with pkijs's own schemas for its parts. */
function authEnvelopedSchema(): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      new asn1js.Integer({ name: 'version' }),
      new asn1js.Constructed({
        name: 'originatorInfo',
        optional: true,
        idBlock: { tagClass: 3, tagNumber: 0 },
        value: pkijs.OriginatorInfo.schema().valueBlock.value,
      }),
      new asn1js.Set({ value: [new asn1js.Repeated({ name: 'recipientInfos', value: pkijs.RecipientInfo.schema() })] }),
      pkijs.EncryptedContentInfo.schema({ names: { blockName: 'authEncryptedContentInfo' } }),
      new asn1js.Constructed({
        name: 'authAttrs',
        optional: true,
        idBlock: { tagClass: 3, tagNumber: 1 },
        value: [new asn1js.Repeated({ value: new asn1js.Any() })],
      }),
      new asn1js.OctetString({ name: 'mac' }),
    ],
  });
}

interface Envelope {
  recipientInfos: pkijs.RecipientInfo[];
  content: pkijs.EncryptedContentInfo;
  /** The GCM tag of AuthEnvelopedData, and its additional authenticated data (the DER of authAttrs). */
  mac: Buffer | null;
  aad: Buffer | null;
}

function readEnvelope(info: pkijs.ContentInfo): Envelope {
  if (info.contentType === OID.envelopedData) {
    const enveloped = new pkijs.EnvelopedData({ schema: info.content });
    return { recipientInfos: enveloped.recipientInfos, content: enveloped.encryptedContentInfo, mac: null, aad: null };
  }
  const checked = asn1js.compareSchema(info.content as asn1js.AsnType, info.content as asn1js.AsnType, authEnvelopedSchema());
  if (!checked.verified) throw new Error('the AuthEnvelopedData structure cannot be read');
  const result = checked.result as unknown as Record<string, unknown> & { recipientInfos: asn1js.AsnType[]; mac: asn1js.OctetString };
  const authAttrs = result.authAttrs as asn1js.Constructed | undefined;
  let aad: Buffer | null = null;
  if (authAttrs) {
    // RFC 5083 section 2.2: the authenticated attributes are authenticated as a DER SET OF (tag 0x31), not as [1].
    const set = new asn1js.Set({ value: authAttrs.valueBlock.value });
    aad = Buffer.from(set.toBER(false));
  }
  return {
    recipientInfos: result.recipientInfos.map((schema) => new pkijs.RecipientInfo({ schema })),
    content: new pkijs.EncryptedContentInfo({ schema: result.authEncryptedContentInfo as asn1js.Sequence }),
    mac: octets(result.mac),
    aad,
  };
}

interface Candidate {
  id: string;
  keyTransport: string;
  /** The registered certificate this recipient names. */
  match: { material: SmimeKeyMaterial; certificate: pkijs.Certificate; der: Buffer } | null;
  encryptedKey: Buffer | null;
  /** OAEP's hash, node:crypto name. */
  oaepHash: string | null;
}

function skiOf(certificate: pkijs.Certificate, der: Buffer): string[] {
  const ids: string[] = [];
  const extension = certificate.extensions?.find((item) => item.extnID === OID.subjectKeyIdentifier);
  if (extension) {
    try {
      ids.push(hex(octets(asn1js.fromBER(extension.extnValue.valueBlock.valueHexView).result as asn1js.OctetString)));
    } catch {
      // an unreadable extension names no recipient
    }
  }
  // RFC 5280 4.2.1.2 method 1, which is what producers use when the certificate has no extension.
  const spki = new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' });
  const info = pkijs.PublicKeyInfo.fromBER(new Uint8Array(spki));
  ids.push(createHash('sha1').update(info.subjectPublicKey.valueBlock.valueHexView).digest('hex'));
  return ids;
}

function matchIssuerSerial(rid: pkijs.IssuerAndSerialNumber, keys: ProtectionKeys): Candidate['match'] {
  return (
    parsedOf(keys).recipients.find(
      (recipient) => recipient.certificate.issuer.isEqual(rid.issuer) && recipient.certificate.serialNumber.isEqual(rid.serialNumber),
    ) ?? null
  );
}

function matchSki(ski: string, keys: ProtectionKeys): Candidate['match'] {
  return parsedOf(keys).recipients.find((recipient) => skiOf(recipient.certificate, recipient.der).includes(ski)) ?? null;
}

function identify(rid: unknown, keys: ProtectionKeys): { id: string; match: Candidate['match'] } {
  if (rid instanceof pkijs.IssuerAndSerialNumber) {
    return { id: `issuer=${nameText(rid.issuer)}; serial=${hex(rid.serialNumber.valueBlock.valueHexView)}`, match: matchIssuerSerial(rid, keys) };
  }
  if (rid instanceof pkijs.RecipientKeyIdentifier) {
    const ski = hex(rid.subjectKeyIdentifier.valueBlock.valueHexView);
    return { id: `ski=${ski}`, match: matchSki(ski, keys) };
  }
  if (rid instanceof asn1js.OctetString) {
    const ski = hex(rid.valueBlock.valueHexView);
    return { id: `ski=${ski}`, match: matchSki(ski, keys) };
  }
  return { id: 'unknown', match: null };
}

function candidatesOf(envelope: Envelope, keys: ProtectionKeys, limit: number): { candidates: Candidate[]; skipped: number } {
  const candidates: Candidate[] = [];
  let skipped = 0;
  for (const recipientInfo of envelope.recipientInfos) {
    const value = recipientInfo.value;
    if (recipientInfo.variant === 1 && value instanceof pkijs.KeyTransRecipientInfo) {
      if (candidates.length >= limit) {
        skipped += 1;
        continue;
      }
      const oaep = value.keyEncryptionAlgorithm.algorithmId === OID.rsaOaep;
      let oaepHash: string | null = null;
      if (oaep) {
        const params = value.keyEncryptionAlgorithm.algorithmParams
          ? new pkijs.RSAESOAEPParams({ schema: value.keyEncryptionAlgorithm.algorithmParams })
          : new pkijs.RSAESOAEPParams();
        oaepHash = DIGESTS[params.hashAlgorithm.algorithmId]?.node ?? 'sha1';
      }
      const { id, match } = identify(value.rid, keys);
      candidates.push({
        id,
        keyTransport: oaep
          ? 'RSA-OAEP'
          : value.keyEncryptionAlgorithm.algorithmId === OID.rsaEncryption
            ? 'RSA PKCS#1 v1.5'
            : value.keyEncryptionAlgorithm.algorithmId,
        match,
        encryptedKey: octets(value.encryptedKey),
        oaepHash,
      });
    } else if (recipientInfo.variant === 2 && value instanceof pkijs.KeyAgreeRecipientInfo) {
      for (const encrypted of value.recipientEncryptedKeys.encryptedKeys) {
        if (candidates.length >= limit) {
          skipped += 1;
          continue;
        }
        const { id, match } = identify(encrypted.rid.value, keys);
        // Key agreement is recognized (and its recipient named), not decrypted.
        candidates.push({ id, keyTransport: 'ECDH', match, encryptedKey: null, oaepHash: null });
      }
    } else if (candidates.length < limit) {
      const kind = recipientInfo.variant === 3 ? 'KEK' : recipientInfo.variant === 4 ? 'password' : 'other';
      candidates.push({ id: kind, keyTransport: kind, match: null, encryptedKey: null, oaepHash: null });
    } else skipped += 1;
  }
  return { candidates, skipped };
}

/** RSA PKCS #1 v1.5 decryption (RFC 8017 7.2.2), from the raw RSA result: node refuses the padding for private decryption. */
function unpadPkcs1(block: Buffer): Buffer {
  if (block[0] !== 0 || block[1] !== 2) throw new Error('the key does not decrypt the content key (bad PKCS #1 v1.5 padding)');
  const separator = block.indexOf(0, 2);
  if (separator < 10) throw new Error('the key does not decrypt the content key (bad PKCS #1 v1.5 padding)');
  return block.subarray(separator + 1);
}

function unwrapKey(candidate: Candidate, privateKey: KeyObject): Buffer {
  const encryptedKey = candidate.encryptedKey as Buffer;
  if (candidate.keyTransport === 'RSA-OAEP') {
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: candidate.oaepHash ?? 'sha1' }, encryptedKey);
  }
  return unpadPkcs1(privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, encryptedKey));
}

function decryptContent(cipher: ContentCipher, key: Buffer, envelope: Envelope): Buffer {
  const algorithm = envelope.content.contentEncryptionAlgorithm;
  const ciphertext = envelope.content.encryptedContent ? octets(envelope.content.encryptedContent) : Buffer.alloc(0);
  const params = algorithm.algorithmParams as asn1js.AsnType | undefined;
  if (cipher.mode === 'cbc') {
    if (!(params instanceof asn1js.OctetString)) throw new Error('the content encryption has no IV');
    const decipher = createDecipheriv(cipher.node as string, key, octets(params));
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  }
  // GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER DEFAULT 12 } (RFC 5084).
  if (!(params instanceof asn1js.Sequence) || !(params.valueBlock.value[0] instanceof asn1js.OctetString))
    throw new Error('the content encryption has no GCM nonce');
  const nonce = octets(params.valueBlock.value[0]);
  const icvLength = params.valueBlock.value[1] instanceof asn1js.Integer ? params.valueBlock.value[1].valueBlock.valueDec : 12;
  let tag = envelope.mac;
  let body = ciphertext;
  if (!tag) {
    // In EnvelopedData (not RFC 5083), GCM carries its tag at the end of the ciphertext.
    tag = ciphertext.subarray(ciphertext.length - icvLength);
    body = ciphertext.subarray(0, ciphertext.length - icvLength);
  }
  const decipher = createDecipheriv(cipher.node as 'aes-256-gcm', key, nonce, { authTagLength: tag.length });
  decipher.setAuthTag(tag);
  if (envelope.aad) decipher.setAAD(envelope.aad);
  return Buffer.concat([decipher.update(body), decipher.final()]);
}

function readEncrypted(info: pkijs.ContentInfo, keys: ProtectionKeys, limits: LayerLimits): LayerResult {
  const warnings = new Set<string>();
  const envelope = readEnvelope(info);
  const algorithmId = envelope.content.contentEncryptionAlgorithm.algorithmId;
  const cipher = CIPHERS[algorithmId];
  if (cipher?.warning) warnings.add(cipher.warning);
  const { candidates, skipped } = candidatesOf(envelope, keys, limits.maxRecipients);
  if (candidates.some((candidate) => candidate.keyTransport === 'RSA PKCS#1 v1.5')) warnings.add('RSA PKCS#1 v1.5 key transport');
  const recipients: EncryptionRecipient[] = candidates.map((candidate) => ({
    id: candidate.id,
    keyTransport: candidate.keyTransport,
    address: candidate.match?.material.address ?? null,
  }));
  for (const candidate of candidates) {
    if (!candidate.match) continue;
    const bits = rsaBits(new X509Certificate(candidate.match.der));
    if (bits !== null && bits < 2048) warnings.add(`RSA-${bits}`);
  }
  const verdict: EncryptionVerdict = { algorithm: cipher?.name ?? algorithmId, recipients, decrypted: false, reason: null };
  let inner: Buffer | null = null;
  const reasons: string[] = [];
  const usable = candidates.filter((candidate) => candidate.match?.material.privateKey && candidate.encryptedKey);
  if (!cipher?.node) reasons.push(`the content encryption ${cipher?.name ?? algorithmId} is not supported for decryption`);
  else if (usable.length === 0) {
    reasons.push(
      candidates.some((candidate) => candidate.match && candidate.keyTransport === 'ECDH')
        ? 'the registered key agrees the content key by ECDH, which Mailwright recognizes but does not decrypt'
        : candidates.some((candidate) => candidate.match)
          ? 'a registered certificate matches a recipient, but without its private key'
          : 'no registered key matches a recipient (register the recipient’s certificate and private key with POST /api/v1/keys, then POST /api/v1/messages/:id/protection)',
    );
  } else {
    for (const candidate of usable) {
      if (limits.signal.aborted) break;
      try {
        const key = unwrapKey(candidate, createPrivateKey(candidate.match?.material.privateKey as string));
        inner = decryptContent(cipher, key, envelope);
        break;
      } catch (error) {
        reasons.push(
          `the key of ${candidate.match?.material.address ?? candidate.id} does not decrypt it: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
  verdict.decrypted = inner !== null;
  verdict.reason = inner ? null : reasons.join('; ') || 'not decrypted';
  return {
    kind: 'smime',
    signatures: [],
    encryption: verdict,
    signedInside: false,
    warnings: [...warnings],
    inner,
    reason: skipped > 0 ? `${skipped} more recipients were not examined` : null,
  };
}

function brokenEncryption(reason: string): LayerResult {
  return {
    kind: 'smime',
    signatures: [],
    encryption: { algorithm: 'unknown', recipients: [], decrypted: false, reason },
    signedInside: false,
    warnings: [],
    inner: null,
    reason,
  };
}

// ---------------------------------------------------------------------------------------------

async function readCms(bytes: Buffer, declared: string, detached: Buffer | null, keys: ProtectionKeys, limits: LayerLimits): Promise<LayerResult> {
  const encryptedByName = declared === 'enveloped-data' || declared === 'authenveloped-data';
  let info: pkijs.ContentInfo;
  try {
    info = readContentInfo(bytes);
  } catch (error) {
    const reason = (error as Error).message;
    if (detached || !encryptedByName)
      return { kind: 'smime', signatures: [unreadableSignature(reason)], encryption: null, signedInside: false, warnings: [], inner: detached, reason };
    return brokenEncryption(reason);
  }
  try {
    if (info.contentType === OID.signedData) return await readSigned(info, detached, keys, limits);
    if (info.contentType === OID.envelopedData || info.contentType === OID.authEnvelopedData) return readEncrypted(info, keys, limits);
  } catch (error) {
    const reason = `the CMS ${info.contentType === OID.signedData ? 'SignedData' : 'envelope'} cannot be read (${error instanceof Error ? error.message : String(error)})`;
    if (info.contentType === OID.signedData)
      return { kind: 'smime', signatures: [unreadableSignature(reason)], encryption: null, signedInside: false, warnings: [], inner: detached, reason };
    return brokenEncryption(reason);
  }
  const reason = `the CMS content type ${info.contentType} is not a signature or an envelope`;
  return encryptedByName
    ? brokenEncryption(reason)
    : { kind: 'smime', signatures: [unreadableSignature(reason)], encryption: null, signedInside: false, warnings: [], inner: null, reason };
}

/**
 * Reads one S/MIME layer (RFC 8551): `application/pkcs7-mime` (enveloped, authEnveloped or
 * signed data; the CMS content type decides when `smime-type` is absent) or a
 * `multipart/signed` with a `pkcs7-signature` part. CMS is read with pkijs; keys are unwrapped
 * (RSA PKCS #1 v1.5, RSA-OAEP) and content decrypted (AES-CBC, AES-GCM, 3DES) with node:crypto.
 */
export const readSmimeLayer: ProtectionLayerReader = async (entity, keys, limits) => {
  const type = entity.contentType;
  if (type === 'application/pkcs7-mime' || type === 'application/x-pkcs7-mime') {
    const declared = smimeType(entity);
    if (declared === 'certs-only') return null;
    return readCms(decodeBody(entity), declared, null, keys, limits);
  }
  if (type === 'multipart/signed' && isSignatureProtocol(entity.params.protocol)) {
    const boundary = entity.params.boundary;
    const parts = boundary ? splitMultipart(entity.body, boundary) : [];
    const [content, signature] = parts;
    if (content === undefined || signature === undefined) {
      const reason = 'the multipart/signed message does not have its two parts';
      return { kind: 'smime', signatures: [unreadableSignature(reason)], encryption: null, signedInside: false, warnings: [], inner: content ?? null, reason };
    }
    return readCms(decodeBody(readMimeEntity(signature)), 'signed-data', content, keys, limits);
  }
  return null;
};
