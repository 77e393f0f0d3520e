import type { Protection, ProtectionSummary } from '@mailwright/core';
import { readMimeEntity, type MimeEntity } from './mime-entity.js';
import type { LayerLimits, LayerResult, ProtectionKeys, ProtectionLayerReader } from './protection-layer.js';

/** Bounds of one message's examination. */
export interface ProtectionLimits {
  /** The most milliseconds one message's examination takes; then it stops with a reason. */
  timeoutMs: number;
  /** The most layers peeled (signature wrappers and envelopes); a deeper message stops with a reason. */
  maxDepth: number;
  /** The most recipients of one encrypted layer examined. */
  maxRecipients: number;
  /** The largest decrypted content kept for `?view=decrypted`, in bytes. */
  maxDecryptedBytes: number;
}

/** The default bounds: 10 s, 8 layers, 32 recipients, 32 MiB decrypted. */
export const DEFAULT_PROTECTION_LIMITS: Readonly<ProtectionLimits> = Object.freeze({
  timeoutMs: 10_000,
  maxDepth: 8,
  maxRecipients: 32,
  maxDecryptedBytes: 32 * 1024 * 1024,
});

const EMPTY = Object.freeze([]) as unknown as never[];

/** The record of a message with no end-to-end protection, shared by every such message. */
export const NO_PROTECTION: Protection = Object.freeze({
  status: 'done',
  kind: 'none',
  signed: false,
  encrypted: false,
  order: null,
  signatures: EMPTY,
  encryption: null,
  warnings: EMPTY,
  reason: null,
  computedAt: null,
});

/** The summary of a message with no end-to-end protection, shared. */
export const NO_PROTECTION_SUMMARY: ProtectionSummary = Object.freeze({ status: 'done', kind: 'none', signed: false, encrypted: false, decrypted: false });

/** The summary of a message waiting to be examined, shared. */
export const PENDING_PROTECTION_SUMMARY: ProtectionSummary = Object.freeze({
  status: 'pending',
  kind: 'none',
  signed: false,
  encrypted: false,
  decrypted: false,
});

/** The record served while a message waits to be examined. */
export const PENDING_PROTECTION: Protection = Object.freeze({ ...NO_PROTECTION, status: 'pending' });

// What any protected message carries somewhere: a CMS content type (`application/pkcs7-mime`,
// `x-pkcs7-signature`…), a PGP/MIME protocol (`application/pgp-encrypted`), an armor line.
// Each marker starts with a byte that is rare in mail text: the scan skips ahead between them.
const MARKERS = ['kcs7-', 'KCS7-', '/pgp-', '/PGP-', 'BEGIN PGP '].map((marker) => Buffer.from(marker, 'latin1'));

/**
 * Whether a message may be protected end to end: a byte scan for the content types and armor
 * lines of S/MIME and OpenPGP. False means it certainly is not, and costs a few scans of memory.
 */
export function mayBeProtected(raw: Buffer): boolean {
  for (const marker of MARKERS) if (raw.includes(marker)) return true;
  return false;
}

/**
 * The largest message scanned for signs of protection on the thread that received it; a
 * larger one is scanned in a worker, so that the scan (tens of ms for 20 MB) never holds the
 * event loop.
 */
export const INLINE_SCAN_MAX_BYTES = 1024 * 1024;

/**
 * Whether a message must go to a worker to be examined: it may be protected, or it is too
 * large to tell here. False means plain mail, whose record is the shared `none` one.
 */
export function needsExamination(raw: Buffer): boolean {
  return raw.length > INLINE_SCAN_MAX_BYTES || mayBeProtected(raw);
}

/** What {@link examineProtection} finds. */
export interface ExaminedProtection {
  protection: Protection;
  /** The innermost content reached below an encryption layer, as a message (the outer header fields kept), or null. */
  decrypted: Buffer | null;
}

let readers: Promise<ProtectionLayerReader[]> | undefined;
/** The readers (pkijs, openpgp), loaded with the first protected message: the server's main thread never holds them. */
function loadReaders(): Promise<ProtectionLayerReader[]> {
  return (readers ??= Promise.all([
    import('./smime-layer.js').then((module) => module.readSmimeLayer),
    import('./pgp-layer.js').then((module) => module.readPgpLayer),
  ]));
}

/** Tries each technology's reader on one entity. */
async function readLayer(entity: MimeEntity, keys: ProtectionKeys, limits: LayerLimits): Promise<LayerResult | null> {
  for (const read of await loadReaders()) {
    const layer = await read(entity, keys, limits);
    if (layer) return layer;
  }
  return null;
}

/**
 * The decrypted content as a message of its own: the outer message's header fields, except
 * the MIME ones and those the inner entity has, then the inner entity as it is.
 */
function asMessage(outer: MimeEntity, inner: Buffer): Buffer {
  const innerEntity = readMimeEntity(inner);
  const lines = outer.headerBytes.toString('latin1').split(/\r?\n(?![ \t])/);
  const kept = lines.filter((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0) return false;
    const name = line.slice(0, colon).trim().toLowerCase();
    return !name.startsWith('content-') && name !== 'mime-version' && !innerEntity.headers.has(name);
  });
  if (kept.length === 0) return inner;
  return Buffer.concat([Buffer.from(`${kept.join('\r\n')}\r\n`, 'latin1'), inner]);
}

/** Merges the layers read, outermost first, into one record. */
function merge(layers: LayerResult[], reason: string | null): Protection {
  const signatureLayer = layers.findIndex((layer) => layer.signatures.length > 0 || layer.signedInside);
  const encryptionLayer = layers.findIndex((layer) => layer.encryption !== null);
  const signed = signatureLayer !== -1;
  const encrypted = encryptionLayer !== -1;
  let order: Protection['order'] = null;
  if (signed && encrypted) {
    // A signature inside the encryption (a nested layer, or OpenPGP's signed-and-encrypted in one) was made first.
    const inside = layers[encryptionLayer]?.signedInside === true || signatureLayer > encryptionLayer;
    order = inside ? 'sign-then-encrypt' : 'encrypt-then-sign';
  }
  const warnings = [...new Set(layers.flatMap((layer) => layer.warnings))];
  const reasons = [...new Set([...layers.map((layer) => layer.reason), reason].filter((text): text is string => text !== null))];
  return {
    status: 'done',
    kind: layers[0]?.kind ?? 'none',
    signed,
    encrypted,
    order,
    signatures: layers.flatMap((layer) => layer.signatures),
    encryption: encrypted ? (layers[encryptionLayer]?.encryption ?? null) : null,
    warnings,
    reason: reasons.length > 0 ? reasons.join('; ') : null,
    computedAt: new Date().toISOString(),
  };
}

/**
 * Examines a message's end-to-end protection: peels its layers (signature wrappers,
 * encryption envelopes) one by one with the registered keys, within the limits, and merges
 * them into one record. Plain mail is answered from a byte scan. Never throws for bad input:
 * a damaged, too deep or too slow message gets a record with the reason.
 */
export async function examineProtection(raw: Buffer, keys: ProtectionKeys, limits: ProtectionLimits = DEFAULT_PROTECTION_LIMITS): Promise<ExaminedProtection> {
  if (!mayBeProtected(raw)) return { protection: { ...NO_PROTECTION, computedAt: new Date().toISOString() }, decrypted: null };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limits.timeoutMs);
  const timedOut = new Promise<never>((_, reject) =>
    controller.signal.addEventListener('abort', () => reject(new Error(`examination took over ${limits.timeoutMs} ms and was stopped`)), { once: true }),
  );
  timedOut.catch(() => undefined);
  const layerLimits: LayerLimits = { signal: controller.signal, maxRecipients: limits.maxRecipients };
  const outer = readMimeEntity(raw);
  const layers: LayerResult[] = [];
  let entity = outer;
  let decrypted: Buffer | null = null;
  let belowEncryption = false;
  let reason: string | null = null;
  try {
    for (let depth = 0; ; depth++) {
      if (depth >= limits.maxDepth) {
        reason = `more than ${limits.maxDepth} layers of protection are nested; the inner ones were not examined`;
        break;
      }
      let layer: LayerResult | null;
      try {
        layer = await Promise.race([readLayer(entity, keys, layerLimits), timedOut]);
      } catch (error) {
        reason = controller.signal.aborted
          ? `examination took over ${limits.timeoutMs} ms and was stopped`
          : `layer ${depth + 1} could not be read: ${error instanceof Error ? error.message : String(error)}`;
        break;
      }
      if (!layer) break;
      layers.push(layer);
      if (layer.encryption) belowEncryption = true;
      if (!layer.inner) break;
      if (belowEncryption) {
        if (layer.inner.length > limits.maxDecryptedBytes) {
          reason = `the decrypted content (${layer.inner.length} bytes) is over ${limits.maxDecryptedBytes} bytes and is not kept`;
          decrypted = null;
          break;
        }
        decrypted = layer.inner;
      }
      entity = readMimeEntity(layer.inner);
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  if (layers.length === 0) return { protection: { ...NO_PROTECTION, reason, computedAt: new Date().toISOString() }, decrypted: null };
  return { protection: merge(layers, reason), decrypted: decrypted ? asMessage(outer, decrypted) : null };
}
