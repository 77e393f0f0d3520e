/** Longest safe file name, in UTF-8 bytes (file systems allow 255; room is left for a suffix such as ` (1)`). */
export const SAFE_FILENAME_MAX_BYTES = 200;
const MAX_EXTENSION_LENGTH = 16;
// C0 and C1 controls, DEL, characters Windows forbids in names, and bidirectional overrides that
// make `txt.exe` look like `exe.txt`.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f<>:"/\\|?*\u202a-\u202e\u2066-\u2069\u200e\u200f]/g;
const WINDOWS_DEVICE = /^(?:con|prn|aux|nul|com\d|lpt\d)(?:\.|$)/i;
// RFC 6838 section 4.2: type and subtype names.
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;

/** Cuts `value` to at most `maxBytes` bytes of UTF-8 without splitting a character. */
function clipUtf8(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value) <= maxBytes) return value;
  let result = '';
  let bytes = 0;
  for (const character of value) {
    const size = Buffer.byteLength(character);
    if (bytes + size > maxBytes) break;
    result += character;
    bytes += size;
  }
  return result;
}

/**
 * A file name that is safe to save under: the last path segment of `filename`, without control,
 * reserved or bidirectional-override characters, without leading or trailing dots and spaces,
 * not a Windows device name, at most {@link SAFE_FILENAME_MAX_BYTES} bytes (keeping the
 * extension), and never empty: `attachment-<partId>` when nothing usable is left.
 */
export function safeFilename(filename: string | null, partId: string): string {
  const fallback = `attachment-${partId.replace(/[^0-9A-Za-z.-]/g, '_')}`.slice(0, 64);
  if (!filename) return fallback;
  const base = filename.split(/[/\\]/).pop() ?? '';
  let name = base
    .replace(UNSAFE_CHARACTERS, '_')
    .replace(/\s+/g, ' ')
    .replace(/^[\s.]+|[\s.]+$/g, '');
  if (name === '' || /^_*$/.test(name)) return fallback;
  if (WINDOWS_DEVICE.test(name)) name = `_${name}`;
  if (Buffer.byteLength(name) > SAFE_FILENAME_MAX_BYTES) {
    const dot = name.lastIndexOf('.');
    const extension = dot > 0 && name.length - dot <= MAX_EXTENSION_LENGTH ? name.slice(dot) : '';
    name = clipUtf8(name.slice(0, name.length - extension.length), SAFE_FILENAME_MAX_BYTES - Buffer.byteLength(extension)).replace(/[\s.]+$/, '') + extension;
  }
  return name;
}

/** A media type usable in a `Content-Type` header; anything else is `application/octet-stream`. */
export function safeContentType(contentType: unknown): string {
  // mailparser gives `false` for an empty or parameter-only Content-Type.
  const value = (typeof contentType === 'string' ? contentType : '').trim().toLowerCase();
  return MEDIA_TYPE.test(value) ? value : 'application/octet-stream';
}
