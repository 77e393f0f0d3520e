let counter = 0;

/**
 * A subject to find one message by (subject search matches substrings): a counter and the
 * time make it unique, and the text after the counter keeps `#1` from matching `#12`.
 */
export function uniqueSubject(label: string): string {
  counter += 1;
  return `${label} #${counter} ${Date.now()}`;
}
