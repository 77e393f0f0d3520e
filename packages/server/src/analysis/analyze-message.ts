import type { MessageContent } from './parse-message.js';

/** What the analysis of a message reports. */
export interface MessageAnalysis {
  /** End-to-end encryption or signing of the content (RFC 1847 / S/MIME / OpenPGP). */
  encryption: { encrypted: boolean; signed: boolean; scheme: 'smime' | 'pgp' | null };
  /** DKIM-Signature headers present (d= domain and s= selector); verification comes separately. */
  dkimSignatures: { domain: string | null; selector: string | null }[];
}

function tag(value: string, name: string): string | null {
  const match = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*([^;\\s]+)`, 'i').exec(value);
  return match?.[1] ?? null;
}

/** Looks at the structure of a message: encryption, signatures. */
export function analyzeMessage(content: MessageContent): MessageAnalysis {
  const contentType = (content.headers['content-type']?.[0] ?? '').toLowerCase();
  const smimeType = /smime-type\s*=\s*"?([\w-]+)/.exec(contentType)?.[1] ?? null;
  const pgp = /application\/pgp-(encrypted|signature)/.test(contentType);
  const smime =
    contentType.includes('application/pkcs7-mime') || contentType.includes('application/x-pkcs7-mime') || contentType.includes('application/pkcs7-signature');
  const encrypted = contentType.startsWith('multipart/encrypted') || (smime && smimeType === 'enveloped-data');
  const signed = contentType.startsWith('multipart/signed') || (smime && smimeType === 'signed-data');
  return {
    encryption: { encrypted, signed, scheme: pgp ? 'pgp' : smime ? 'smime' : null },
    dkimSignatures: (content.headers['dkim-signature'] ?? []).map((value) => ({ domain: tag(value, 'd'), selector: tag(value, 's') })),
  };
}
