import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import type { DnsRecord } from '@mailwright/core';
import { normalizeDnsName } from '@mailwright/core';

const generate = promisify(generateKeyPair);

/** Key algorithms {@link createDkimKey} makes; `rsa-1024` only to test what receivers do with short keys. */
export const DKIM_KEY_ALGORITHMS = ['rsa-2048', 'ed25519', 'rsa-1024'] as const;
export type DkimKeyAlgorithm = (typeof DKIM_KEY_ALGORITHMS)[number];

/** Options of {@link createDkimKey}. */
export interface DkimKeyOptions {
  /** The signing domain (`d=`). */
  domain: string;
  /** The selector (`s=`). */
  selector: string;
  /** Default `rsa-2048`. */
  algorithm?: DkimKeyAlgorithm;
}

/** A DKIM key pair with the TXT record that publishes its public half. */
export interface DkimKey {
  domain: string;
  selector: string;
  algorithm: DkimKeyAlgorithm;
  /** PKCS#8 PEM; for RSA, what nodemailer's `dkim.privateKey` and mailauth's signer take. */
  privateKey: string;
  /** The record to publish: `selector._domainkey.domain TXT "v=DKIM1; k=…; p=…"`. */
  record: DnsRecord;
  /** nodemailer's `dkim` transport option for this key (RSA only: nodemailer signs with RSA). */
  nodemailer: { domainName: string; keySelector: string; privateKey: string } | null;
  /** mailauth's `dkimSign` signature data for this key (`signingDomain`, `selector`, `privateKey`, `algorithm`). */
  mailauth: { signingDomain: string; selector: string; privateKey: string; algorithm: 'rsa-sha256' | 'ed25519-sha256' };
}

/**
 * Creates a DKIM key for `domain` and `selector` and the `_domainkey` TXT record that
 * publishes it. Ed25519 keys are published as RFC 8463 asks: `k=ed25519` and the bare 32-byte
 * public key in `p=`.
 */
export async function createDkimKey(options: DkimKeyOptions): Promise<DkimKey> {
  const algorithm = options.algorithm ?? 'rsa-2048';
  if (!DKIM_KEY_ALGORITHMS.includes(algorithm)) throw new TypeError(`algorithm must be one of ${DKIM_KEY_ALGORITHMS.join(', ')} (got ${String(algorithm)})`);
  const domain = normalizeDnsName(options.domain);
  if ('problem' in domain) throw new TypeError(`domain: ${domain.problem}`);
  const selector = normalizeDnsName(options.selector);
  if ('problem' in selector) throw new TypeError(`selector: ${selector.problem}`);
  const name = `${selector.name}._domainkey.${domain.name}`;
  if (algorithm === 'ed25519') {
    const { publicKey, privateKey } = await generate('ed25519', {
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    // The SPKI DER of an Ed25519 key is a 12-byte prefix and the 32-byte key.
    const raw = publicKey.subarray(publicKey.length - 32).toString('base64');
    return {
      domain: domain.name,
      selector: selector.name,
      algorithm,
      privateKey,
      record: { name, type: 'TXT', value: `v=DKIM1; k=ed25519; p=${raw}` },
      nodemailer: null,
      mailauth: { signingDomain: domain.name, selector: selector.name, privateKey, algorithm: 'ed25519-sha256' },
    };
  }
  const modulusLength = algorithm === 'rsa-1024' ? 1024 : 2048;
  const { publicKey, privateKey } = await generate('rsa', {
    modulusLength,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    domain: domain.name,
    selector: selector.name,
    algorithm,
    privateKey,
    record: { name, type: 'TXT', value: `v=DKIM1; k=rsa; p=${publicKey.toString('base64')}` },
    nodemailer: { domainName: domain.name, keySelector: selector.name, privateKey },
    mailauth: { signingDomain: domain.name, selector: selector.name, privateKey, algorithm: 'rsa-sha256' },
  };
}
