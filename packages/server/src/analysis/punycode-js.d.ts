// punycode.js ships no type declarations; this is the part of its API the analysis uses.
declare module 'punycode.js' {
  /** Converts a domain name or label in Punycode (`xn--…`) to Unicode; other labels are kept. */
  export function toUnicode(input: string): string;
  const punycode: { toUnicode: typeof toUnicode };
  export default punycode;
}
