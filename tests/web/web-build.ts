import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';

/** The monorepo root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Where the viewer is built. */
export const WEB_ROOT = join(ROOT, 'apps/web/dist');

const BUILD_LOCK = join(ROOT, 'apps/web/.build-lock');
const BUILD_TIMEOUT_MS = 120_000;

/**
 * Builds the viewer unless apps/web/dist exists (the root `npm test` builds it first).
 * Suites run in parallel, so one builds while the others wait on a lock directory.
 */
export async function ensureWebBuild(): Promise<void> {
  const index = join(WEB_ROOT, 'index.html');
  // A failed build is reported at once, not retried until the timeout.
  let buildError: unknown;
  await vi.waitFor(
    () => {
      if (existsSync(index) || buildError !== undefined) return;
      try {
        mkdirSync(BUILD_LOCK);
      } catch {
        throw new Error(`Timed out waiting for another suite to build the viewer (remove ${BUILD_LOCK} if stale)`);
      }
      try {
        if (!existsSync(index)) execFileSync('npm', ['run', 'build', '-w', 'apps/web'], { cwd: ROOT, stdio: 'inherit' });
      } catch (error) {
        buildError = error;
      } finally {
        rmSync(BUILD_LOCK, { recursive: true, force: true });
      }
    },
    { timeout: BUILD_TIMEOUT_MS, interval: 200 },
  );
  if (buildError !== undefined) throw buildError;
}
