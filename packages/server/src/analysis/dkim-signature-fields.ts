/** The most header bytes scanned for DKIM-Signature fields (as much as the message parser reads). */
const MAX_HEADER_BYTES = 1024 * 1024;

/** One DKIM-Signature header field: its tags, and what makes it unverifiable by syntax alone. */
export interface DkimSignatureField {
  /** Tag name (lower-case) → value, whitespace removed from `b=` and `bh=`. */
  tags: Map<string, string>;
  /** RFC 6376 §6.1.1 problems that make the signature PERMFAIL before any cryptography. */
  problems: string[];
}

/** RFC 6376 §3.5: the tags a DKIM-Signature must have. */
const REQUIRED_TAGS = ['v', 'a', 'b', 'bh', 'd', 'h', 's'];

/** The header fields named `name` (case-insensitive), unfolded, in order from the top. */
export function headerFieldValues(raw: Buffer, name: string): string[] {
  const head = raw.subarray(0, MAX_HEADER_BYTES).toString('latin1');
  const end = /\r?\n\r?\n/.exec(head);
  const block = end ? head.slice(0, end.index) : head;
  const values: string[] = [];
  const prefix = `${name.toLowerCase()}:`;
  let current: string | null = null;
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line)) {
      if (current !== null) current += ` ${line.trim()}`;
      continue;
    }
    if (current !== null) values.push(current);
    current = line.toLowerCase().startsWith(prefix) ? line.slice(prefix.length).trim() : null;
  }
  if (current !== null) values.push(current);
  return values;
}

/** Reads the DKIM-Signature fields of a message, top to bottom, with their syntax problems. */
export function readDkimSignatureFields(raw: Buffer): DkimSignatureField[] {
  return headerFieldValues(raw, 'dkim-signature').map((value) => {
    const tags = new Map<string, string>();
    const problems: string[] = [];
    for (const part of value.split(';')) {
      if (part.trim() === '') continue;
      const equals = part.indexOf('=');
      if (equals <= 0) {
        problems.push(`"${part.trim().slice(0, 40)}" is not a tag=value pair`);
        continue;
      }
      const tag = part.slice(0, equals).trim().toLowerCase();
      let tagValue = part.slice(equals + 1).trim();
      if (tag === 'b' || tag === 'bh' || tag === 'h') tagValue = tagValue.replace(/\s+/g, '');
      if (tags.has(tag)) problems.push(`the tag ${tag}= appears twice`);
      tags.set(tag, tagValue);
    }
    const missing = REQUIRED_TAGS.filter((tag) => !tags.get(tag));
    if (missing.length > 0) problems.push(`missing required tag${missing.length > 1 ? 's' : ''} ${missing.map((tag) => `${tag}=`).join(', ')}`);
    const version = tags.get('v');
    if (version && version !== '1') problems.push(`v=${version} is not version 1`);
    const signed = (tags.get('h') ?? '').toLowerCase().split(':');
    if (tags.get('h') && !signed.includes('from')) problems.push('h= does not include From, which every signature must sign');
    const domain = (tags.get('d') ?? '').toLowerCase();
    const identity = (tags.get('i') ?? '').toLowerCase();
    if (domain && identity) {
      const identityDomain = identity.slice(identity.lastIndexOf('@') + 1);
      if (identityDomain !== domain && !identityDomain.endsWith(`.${domain}`)) problems.push(`i=${identity} is not in d=${domain} or a subdomain of it`);
    }
    return { tags, problems };
  });
}

/**
 * The message with every DKIM-Signature field after the first `keep` removed (the body and all
 * other header fields byte for byte as they were), or the message itself when it has no more.
 */
export function withFirstDkimSignatures(raw: Buffer, keep: number): Buffer {
  const head = raw.subarray(0, MAX_HEADER_BYTES).toString('latin1');
  const end = /\r?\n\r?\n/.exec(head);
  const headerEnd = end ? end.index + end[0].length : head.length;
  const kept: Buffer[] = [];
  let seen = 0;
  let position = 0;
  let removing = false;
  let copiedUpTo = 0;
  while (position < headerEnd) {
    const newline = head.indexOf('\n', position);
    const lineEnd = newline < 0 || newline >= headerEnd ? headerEnd : newline + 1;
    const line = head.slice(position, lineEnd);
    if (!/^[ \t]/.test(line)) {
      const isSignature = /^dkim-signature:/i.test(line);
      const remove = isSignature && ++seen > keep;
      if (remove && !removing) kept.push(raw.subarray(copiedUpTo, position));
      if (!remove && removing) copiedUpTo = position;
      removing = remove;
    }
    position = lineEnd;
  }
  if (seen <= keep) return raw;
  kept.push(raw.subarray(removing ? headerEnd : copiedUpTo));
  return Buffer.concat(kept);
}
