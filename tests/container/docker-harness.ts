// Shared by the container suites: finds the Docker engine, builds the local base image and the
// mailwright image from this checkout, and runs docker commands.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { describeWithPrerequisite } from '../../packages/server/src/test-support/external-client.js';

const execFileAsync = promisify(execFile);

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The image the suites build and run; also the default of `MailwrightContainer`. */
export const IMAGE = 'mailwright:local';

/** The base image passed as BASE_IMAGE: built locally, as no registry is reachable. */
export const BASE_IMAGE = process.env.MAILWRIGHT_TEST_BASE_IMAGE ?? 'mailwright-base:local';

/** Building the base image runs debootstrap: minutes on a cold machine. */
export const IMAGE_BUILD_TIMEOUT_MS = 15 * 60_000;

/** How long a started container may take to answer its health checks. */
const HEALTHY_TIMEOUT_MS = 60_000;

// The testcontainers reaper (Ryuk) is an image that cannot be pulled here: every suite stops
// what it starts instead.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

/** Runs `docker …` and resolves with its stdout; rejects with stderr on a non-zero exit. */
export async function docker(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<string> {
  const { stdout } = await execFileAsync('docker', args, { maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 120_000 });
  return stdout.trim();
}

/** Why no Docker engine answers, or null when one does. */
async function findDocker(): Promise<string | null> {
  try {
    await docker(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 20_000 });
    return null;
  } catch (error) {
    return `no Docker engine: ${(error as Error).message.split('\n').find((line) => line.trim() !== '') ?? 'docker info failed'}`;
  }
}

const dockerUnavailable: string | null = await findDocker();

/**
 * `describe` for a suite that needs the Docker engine: without one it is skipped with the reason
 * in its name, and fails under CI=true (`describeWithPrerequisite`). A machine that cannot run an
 * engine leaves these files out by name instead (`scripts/clean-root-check.sh`).
 */
export function describeWithDocker(name: string, body: () => void): void {
  describeWithPrerequisite(name, dockerUnavailable, body);
}

/** Runs a command to completion, feeding it `stdin` (a child's stdout) when given. */
function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}:\n${output}`));
    });
  });
}

/** `docker image inspect` of one image, the fields the suites use. */
export interface ImageInspect {
  Id: string;
  Size: number;
  Config: {
    User: string;
    Env: string[];
    ExposedPorts: Record<string, object>;
    Volumes: Record<string, object> | null;
    Entrypoint: string[] | null;
    StopSignal?: string;
    Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number };
  };
}

export async function inspectImage(image: string): Promise<ImageInspect> {
  return (JSON.parse(await docker(['image', 'inspect', image])) as ImageInspect[])[0] as ImageInspect;
}

let built: Promise<{ image: ImageInspect; base: ImageInspect }> | undefined;

/**
 * Builds {@link IMAGE} the documented way, from what `npm run build` left in the checkout:
 * the base image (docker/build-base-image.sh, a no-op when it exists), the bundle
 * (docker/bundle.mjs), then `docker build -f docker/Dockerfile --build-arg BASE_IMAGE=…`.
 * The context is exactly the Dockerfile and the bundle (what docker/Dockerfile.dockerignore
 * lets through), written to a private directory so parallel suites do not race.
 */
export function buildImage(): Promise<{ image: ImageInspect; base: ImageInspect }> {
  built ??= (async () => {
    const repoDocker = join(REPO_ROOT, 'docker');
    if (BASE_IMAGE === 'mailwright-base:local') await run(join(repoDocker, 'build-base-image.sh'), [], { timeoutMs: IMAGE_BUILD_TIMEOUT_MS });
    const work = await mkdtemp(join(tmpdir(), 'mailwright-image-'));
    try {
      await run(process.execPath, [join(repoDocker, 'bundle.mjs'), '--out', join(work, 'dist')], { timeoutMs: 120_000 });
      // The build context, laid out as in the repository: docker/Dockerfile, docker/dist/…
      await run(
        'tar',
        ['-c', '-f', join(work, 'context.tar'), '-C', REPO_ROOT, 'docker/Dockerfile', '-C', work, '--transform', 's,^dist,docker/dist,', 'dist'],
        {
          timeoutMs: 60_000,
        },
      );
      await run(
        'sh',
        ['-c', 'docker build -q -f docker/Dockerfile --build-arg "BASE_IMAGE=$1" -t "$2" - < "$3"', 'sh', BASE_IMAGE, IMAGE, join(work, 'context.tar')],
        {
          timeoutMs: IMAGE_BUILD_TIMEOUT_MS,
        },
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return { image: await inspectImage(IMAGE), base: await inspectImage(BASE_IMAGE) };
  })();
  return built;
}

/** `docker inspect` of a container: its state and health. */
export async function containerState(id: string): Promise<{ Status: string; ExitCode: number; Health?: { Status: string } }> {
  return JSON.parse(await docker(['inspect', '--format', '{{json .State}}', id])) as { Status: string; ExitCode: number; Health?: { Status: string } };
}

/** The host port Docker published for a container port (`1025/tcp`), on 127.0.0.1. */
export async function publishedPort(id: string, containerPort: string): Promise<number> {
  const line = (await docker(['port', id, containerPort])).split('\n')[0] ?? '';
  const port = Number(line.slice(line.lastIndexOf(':') + 1));
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no published port for ${containerPort}: ${line}`);
  return port;
}

/** Removes a container and its anonymous volumes, whatever its state; never throws. */
export async function removeContainer(id: string | undefined): Promise<void> {
  if (id) await docker(['rm', '--force', '--volumes', id]).catch(() => undefined);
}

/** Removes a volume; never throws. */
export async function removeVolume(name: string): Promise<void> {
  await docker(['volume', 'rm', '--force', name]).catch(() => undefined);
}

/** Waits until Docker reports the container's HEALTHCHECK as healthy. */
export async function waitForHealthy(id: string): Promise<void> {
  await expect.poll(async () => (await containerState(id)).Health?.Status, { timeout: HEALTHY_TIMEOUT_MS, interval: 250 }).toBe('healthy');
}

/** The URL of the container's HTTP port (8025, published on 127.0.0.1), once `/api/v1/health` answers 200 there. */
export async function waitForHttpApi(id: string): Promise<string> {
  const url = `http://127.0.0.1:${await publishedPort(id, '8025/tcp')}`;
  await expect.poll(async () => (await fetch(`${url}/api/v1/health`).catch(() => null))?.status, { timeout: HEALTHY_TIMEOUT_MS, interval: 100 }).toBe(200);
  return url;
}
