/**
 * Makes a value once, on first use, and keeps it for every later call; a failure is not
 * kept, so the next call tries again (one failed key generation must not break a profile
 * for the life of the server).
 */
export function rememberSuccess<T>(make: () => Promise<T>): () => Promise<T> {
  let kept: Promise<T> | null = null;
  return () =>
    (kept ??= make().catch((error: unknown) => {
      kept = null;
      throw error;
    }));
}
