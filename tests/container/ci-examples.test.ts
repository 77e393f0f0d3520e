// The CI examples of docs/ci.md (docker/ci/*.yml) and docker/compose.yaml: they parse, the
// docs show them verbatim, and what they configure (image, ports, environment, health check,
// trusting the test CA) is run for real against the image built from this checkout.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Mailwright } from '@mailwright/sdk';
import '@mailwright/sdk/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  BASE_IMAGE,
  IMAGE,
  IMAGE_BUILD_TIMEOUT_MS,
  REPO_ROOT,
  buildImage,
  describeWithDocker,
  docker,
  publishedPort,
  removeContainer,
  removeVolume,
  waitForHealthy,
  waitForHttpApi,
  type ImageInspect,
} from './docker-harness.js';

const execFileAsync = promisify(execFile);

/** Sends one message the way an application under test does: settings from its environment only. */
const APP_SEND_SCRIPT = `
import nodemailer from 'nodemailer';
const env = process.env;
const transport = nodemailer.createTransport({
  host: env.SMTP_HOST, port: Number(env.SMTP_PORT), secure: false, requireTLS: true,
  auth: { user: env.SMTP_USER, pass: env.SMTP_PASSWORD },
});
await transport.sendMail({ from: 'app@acme.test', to: env.MAIL_TO, subject: env.MAIL_SUBJECT, text: 'hello' });
transport.close();
`;

interface GithubWorkflow {
  jobs: Record<
    string,
    {
      'runs-on': string;
      services: Record<string, { image: string; ports: string[]; env: Record<string, string | number>; options: string }>;
      env: Record<string, string | number>;
      steps: { name?: string; uses?: string; run?: string }[];
    }
  >;
}

interface GitlabPipeline {
  [job: string]: {
    image: string;
    services: { name: string; alias: string; variables: Record<string, string> }[];
    variables: Record<string, string>;
    before_script: string[];
    script: string[];
  };
}

interface ComposeFile {
  services: Record<
    string,
    {
      image: string;
      build: { context: string; dockerfile: string; args: Record<string, string> };
      ports: string[];
      environment: Record<string, string | number>;
      volumes: string[];
    }
  >;
  volumes: Record<string, unknown>;
}

async function readRepoFile(path: string): Promise<string> {
  return readFile(join(REPO_ROOT, path), 'utf8');
}

/** The fenced ```yaml blocks of a Markdown file. */
function yamlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ya?ml\n([\s\S]*?)^```$/gm)].map((match) => match[1] as string);
}

/** Splits a docker options string the way the Actions runner does: words, "double quotes". */
function splitWords(text: string): string[] {
  return [...text.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? (match[2] as string));
}

/** `H:C` or `127.0.0.1:H:C` → the container port C. */
function containerPortOf(mapping: string): number {
  return Number(mapping.split(':').at(-1));
}

function stringValues(record: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, String(value)]));
}

/** `-e K=V` for each variable. */
function envArgs(env: Record<string, string>): string[] {
  return Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
}

/** Runs `node --input-type=module -e <script>` from the repository root; never throws. */
async function runNode(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, env, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failure.code === 'number' ? failure.code : 1, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
  }
}

/** The process environment without anything that would make TLS pass for the wrong reason. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['NODE_EXTRA_CA_CERTS', 'NODE_TLS_REJECT_UNAUTHORIZED', 'MAILWRIGHT_API_TOKEN']) delete env[name];
  return env;
}

describe('docs/ci.md shows the examples verbatim, and they parse', () => {
  it.each(['docker/ci/github-actions.yml', 'docker/ci/gitlab-ci.yml', 'docker/compose.yaml'])('%s', async (path) => {
    const [text, docs] = await Promise.all([readRepoFile(path), readRepoFile('docs/ci.md')]);
    expect(() => parse(text, { strict: true, uniqueKeys: true })).not.toThrow();
    expect(yamlBlocks(docs)).toContain(text);
  });

  it('the examples agree with the image: ports, the /data volume, the health check, the BASE_IMAGE default', async () => {
    const [github, gitlab, compose, dockerfile] = await Promise.all([
      readRepoFile('docker/ci/github-actions.yml').then((text) => parse(text) as GithubWorkflow),
      readRepoFile('docker/ci/gitlab-ci.yml').then((text) => parse(text) as GitlabPipeline),
      readRepoFile('docker/compose.yaml').then((text) => parse(text) as ComposeFile),
      readRepoFile('docker/Dockerfile'),
    ]);
    const exposed = (/^EXPOSE (.+)$/m.exec(dockerfile)?.[1] ?? '').split(/\s+/).map(Number);
    expect(exposed).toEqual([1025, 1465, 8025]);

    const service = Object.values(github.jobs)[0]?.services.mailwright;
    expect(service?.ports.map(containerPortOf)).toEqual(exposed);
    expect(splitWords(service?.options ?? '')).toEqual(expect.arrayContaining(['--health-cmd', 'mailwright healthcheck']));
    for (const image of [service?.image, Object.values(gitlab)[0]?.services[0]?.name]) expect(image).toMatch(/\/mailwright:\d+\.\d+\.\d+$/);

    const composeService = compose.services.mailwright;
    expect(composeService?.ports.map(containerPortOf)).toEqual(exposed);
    expect(composeService?.volumes).toEqual(['mailwright-data:/data']);
    expect(composeService?.build).toMatchObject({ context: '..', dockerfile: 'docker/Dockerfile' });
    const dockerfileDefault = /^ARG BASE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(composeService?.build.args.BASE_IMAGE).toBe(`\${MAILWRIGHT_BASE_IMAGE:-${dockerfileDefault}}`);
  });
});

describeWithDocker('the CI examples, run against the image', () => {
  const containers: string[] = [];
  const networks: string[] = [];
  const volumes: string[] = [];
  let work: string;
  let image: ImageInspect;

  beforeAll(async () => {
    ({ image } = await buildImage());
    work = await mkdtemp(join(tmpdir(), 'mailwright-ci-'));
  }, IMAGE_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    for (const id of containers) await removeContainer(id);
    for (const network of networks) await docker(['network', 'rm', network]).catch(() => undefined);
    for (const volume of volumes) await removeVolume(volume);
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function start(args: readonly string[]): Promise<string> {
    const id = await docker(['run', '-d', ...args]);
    containers.push(id);
    return id;
  }

  it('GitHub Actions: the service starts healthy with its ports, env and --health-cmd; the CA step makes the job trust it', async () => {
    const workflow = parse(await readRepoFile('docker/ci/github-actions.yml')) as GithubWorkflow;
    const job = Object.values(workflow.jobs)[0];
    const service = job?.services.mailwright;
    if (!job || !service) throw new Error('the workflow has no job with a mailwright service');

    // The service as the runner creates it: the workflow's options, env and ports (on free host
    // ports here), with the image built from this checkout.
    const containerPorts = service.ports.map(containerPortOf);
    expect(containerPorts.map((port) => `${port}/tcp`).sort()).toEqual(Object.keys(image.Config.ExposedPorts).sort());
    const id = await start([
      ...splitWords(service.options),
      ...envArgs(stringValues(service.env)),
      ...containerPorts.flatMap((port) => ['-p', `127.0.0.1::${port}`]),
      IMAGE,
    ]);
    await waitForHealthy(id);

    // The job's environment, pointed at where the workflow's `H:C` ports landed.
    const hostPort = new Map<string, string>();
    for (const mapping of service.ports) hostPort.set(mapping.split(':').at(-2) as string, String(await publishedPort(id, `${containerPortOf(mapping)}/tcp`)));
    const jobEnv = Object.fromEntries(
      Object.entries(stringValues(job.env)).map(([key, value]) => [
        key,
        key.endsWith('_PORT') ? (hostPort.get(value) ?? value) : value.replace(/:(\d+)$/, (whole, port: string) => `:${hostPort.get(port) ?? port}`),
      ]),
    );
    const mailwrightUrl = jobEnv.MAILWRIGHT_URL as string;
    expect(mailwrightUrl).toMatch(/^http:\/\/localhost:\d+$/);

    // The step, verbatim, with the runner's RUNNER_TEMP and GITHUB_ENV.
    const step = job.steps.find((candidate) => candidate.name === 'Trust the Mailwright test CA');
    if (!step?.run) throw new Error('the workflow has no "Trust the Mailwright test CA" step');
    const githubEnv = join(work, 'github-env');
    await writeFile(githubEnv, '');
    await execFileAsync('bash', ['-e', '-c', step.run], { env: { ...cleanEnv(), ...jobEnv, RUNNER_TEMP: work, GITHUB_ENV: githubEnv } });
    const exported = Object.fromEntries(
      (await readFile(githubEnv, 'utf8'))
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(Object.keys(exported)).toEqual(['NODE_EXTRA_CA_CERTS']);

    const mail = await Mailwright.connect(mailwrightUrl);
    try {
      expect(await readFile(exported.NODE_EXTRA_CA_CERTS as string, 'utf8')).toBe(mail.ca);
      const info = (await (await fetch(`${mailwrightUrl}/api/v1/info`)).json()) as { listeners: { name: string; starttls: string; auth: string }[] };
      expect(info.listeners.find((listener) => listener.name === 'smtp')).toMatchObject({ starttls: 'require', auth: 'required' });

      // Without the step, the application's STARTTLS fails certificate verification ...
      const inbox = mail.inbox();
      const untrusted = await runNode(APP_SEND_SCRIPT, { ...cleanEnv(), ...jobEnv, MAIL_TO: inbox.address, MAIL_SUBJECT: 'untrusted' });
      expect(untrusted.code).not.toBe(0);
      expect(untrusted.output).toMatch(/certificate/i);
      // ... with it, the mail goes through, verified, over STARTTLS with AUTH.
      const trusted = await runNode(APP_SEND_SCRIPT, { ...cleanEnv(), ...jobEnv, ...exported, MAIL_TO: inbox.address, MAIL_SUBJECT: 'trusted' });
      expect(trusted).toMatchObject({ code: 0 });
      const message = await inbox.waitForMessage({ subject: 'trusted', timeout: 10_000 });
      expect(message).toBeDeliveredOverTls({ mode: 'starttls', minVersion: 'TLSv1.2' });
      expect(message).toHaveBeenAuthenticated({ username: jobEnv.SMTP_USER as string });
      expect(await inbox.messages()).toHaveLength(1);
    } finally {
      await mail.close();
    }
  });

  it('GitLab CI: the service under its alias, with its variables, serves a certificate valid for that alias', async () => {
    const pipeline = parse(await readRepoFile('docker/ci/gitlab-ci.yml')) as GitlabPipeline;
    const job = Object.values(pipeline)[0];
    const service = job?.services[0];
    if (!job || !service) throw new Error('the pipeline has no job with a service');
    expect(job.before_script.join('\n')).toContain('NODE_EXTRA_CA_CERTS=');

    const network = `mailwright-ci-${randomUUID().slice(0, 8)}`;
    await docker(['network', 'create', network]);
    networks.push(network);
    // GitLab hands a service its own variables and the job's.
    const id = await start([
      '--network',
      network,
      '--network-alias',
      service.alias,
      ...envArgs({ ...job.variables, ...service.variables }),
      '-p',
      '127.0.0.1::8025',
      IMAGE,
    ]);
    const hostUrl = await waitForHttpApi(id);

    // The job: a Node.js container on the same network that fetches the CA from
    // $MAILWRIGHT_URL, trusts it through NODE_EXTRA_CA_CERTS and sends to $SMTP_HOST.
    const mail = await Mailwright.connect(hostUrl);
    try {
      const inbox = mail.inbox();
      const jobScript = `
        set -e
        node -e "fetch(process.env.MAILWRIGHT_URL + '/api/v1/tls/ca.pem').then(r => r.ok ? r.text() : Promise.reject(new Error('HTTP ' + r.status))).then(t => require('fs').writeFileSync('/tmp/mailwright-ca.pem', t))"
        export NODE_EXTRA_CA_CERTS=/tmp/mailwright-ca.pem
        node --input-type=module -e "$APP_SEND_SCRIPT"
      `;
      const output = await docker([
        'run',
        '--rm',
        '--network',
        network,
        ...envArgs({ ...job.variables, MAIL_TO: inbox.address, MAIL_SUBJECT: 'from the GitLab job', APP_SEND_SCRIPT }),
        '-v',
        `${join(REPO_ROOT, 'node_modules')}:/job/node_modules:ro`,
        '-w',
        '/job',
        '--entrypoint',
        'sh',
        BASE_IMAGE,
        '-c',
        jobScript,
      ]).catch((error: Error) => error.message);
      expect(output).toBe('');
      const message = await inbox.waitForMessage({ subject: 'from the GitLab job', timeout: 10_000 });
      expect(message).toBeDeliveredOverTls({ mode: 'starttls' });
      expect(message.tls.servername).toBe(service.alias);
      expect(message).toHaveBeenAuthenticated({ username: job.variables.SMTP_USER as string });
    } finally {
      await mail.close();
    }
  });

  it('compose.yaml: the service with its environment and named volume starts healthy and keeps the CA in the volume', async () => {
    const compose = parse(await readRepoFile('docker/compose.yaml')) as ComposeFile;
    const service = compose.services.mailwright;
    if (!service) throw new Error('compose.yaml has no mailwright service');
    const volume = `mailwright-compose-${randomUUID().slice(0, 8)}`;
    volumes.push(volume);
    const args = [
      ...envArgs(stringValues(service.environment)),
      ...service.volumes.map((mount) => ['-v', mount.replace(/^mailwright-data:/, `${volume}:`)]).flat(),
      ...service.ports.flatMap((mapping) => ['-p', `127.0.0.1::${containerPortOf(mapping)}`]),
      IMAGE,
    ];
    const first = await start(args);
    await waitForHealthy(first);
    const firstUrl = `http://127.0.0.1:${await publishedPort(first, '8025/tcp')}`;
    const ca = await (await fetch(`${firstUrl}/api/v1/tls/ca.pem`)).text();
    const info = (await (await fetch(`${firstUrl}/api/v1/info`)).json()) as { limits: { maxMessages: number } };
    expect(info.limits.maxMessages).toBe(Number(service.environment.MAILWRIGHT_MAX_MESSAGES));
    await docker(['rm', '--force', first]);

    const second = await start(args);
    const secondUrl = await waitForHttpApi(second);
    expect(await (await fetch(`${secondUrl}/api/v1/tls/ca.pem`)).text()).toBe(ca);
  });
});
