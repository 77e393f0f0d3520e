// The Docker image (docker/Dockerfile) and the testcontainers module, for real: the image is
// built from this checkout on a locally made base image, started, and driven from the host.
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { Mailwright } from '@mailwright/sdk';
import '@mailwright/sdk/vitest';
import { MailwrightContainer, type StartedMailwrightContainer } from '@mailwright/testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BASE_IMAGE,
  IMAGE,
  IMAGE_BUILD_TIMEOUT_MS,
  buildImage,
  containerState,
  describeWithDocker,
  docker,
  publishedPort,
  removeContainer,
  removeVolume,
  waitForHealthy,
  waitForHttpApi,
  type ImageInspect,
} from './docker-harness.js';
import { openIdleSmtpConnection, sendMail } from './smtp-client.js';

/** What the image may add to its base image. */
const MAX_ADDED_BYTES = 80 * 1000 * 1000;
/** How long `docker stop` may take. */
const MAX_STOP_MS = 5_000;

describeWithDocker('the mailwright Docker image', () => {
  let image: ImageInspect;
  let base: ImageInspect;

  beforeAll(async () => {
    ({ image, base } = await buildImage());
  }, IMAGE_BUILD_TIMEOUT_MS);

  describe('docker build -f docker/Dockerfile --build-arg BASE_IMAGE=…', () => {
    it(`builds on the BASE_IMAGE and adds at most ${MAX_ADDED_BYTES / 1e6} MB to it`, async () => {
      const [imageLayers, baseLayers] = await Promise.all([
        docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', IMAGE]).then((text) => JSON.parse(text) as string[]),
        docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', BASE_IMAGE]).then((text) => JSON.parse(text) as string[]),
      ]);
      expect(imageLayers.slice(0, baseLayers.length)).toEqual(baseLayers);
      const added = image.Size - base.Size;
      console.info(`${IMAGE}: ${image.Size} bytes, ${BASE_IMAGE}: ${base.Size} bytes, added ${added} bytes (${(added / 1e6).toFixed(2)} MB)`);
      expect(added).toBeGreaterThan(0);
      expect(added).toBeLessThanOrEqual(MAX_ADDED_BYTES);
    });

    it('declares the ports, the /data volume, a non-root user, SIGTERM and the CLI health check', () => {
      const { Config: config } = image;
      expect(Object.keys(config.ExposedPorts).sort()).toEqual(['1025/tcp', '1465/tcp', '8025/tcp']);
      expect(Object.keys(config.Volumes ?? {})).toEqual(['/data']);
      expect(config.User).toBe('mailwright:mailwright');
      expect(config.StopSignal).toBe('SIGTERM');
      expect(config.Entrypoint).toEqual(['node', '/app/bin/mailwright.mjs']);
      expect(config.Healthcheck?.Test).toEqual(['CMD', 'node', '/app/bin/mailwright.mjs', 'healthcheck']);
      expect(config.Env).toEqual(
        expect.arrayContaining(['MAILWRIGHT_HOST=0.0.0.0', 'MAILWRIGHT_INSECURE_NO_TOKEN=true', 'MAILWRIGHT_DATA_DIR=/data', 'MAILWRIGHT_LOG_FORMAT=json']),
      );
    });

    it('carries no curl or wget, and the mailwright command is on PATH', async () => {
      const output = await docker(['run', '--rm', '--entrypoint', 'sh', IMAGE, '-c', 'command -v curl wget; mailwright --version']);
      expect(output).toMatch(/^\d+\.\d+\.\d+$/);
    });
  });

  describe('through @mailwright/testcontainers', () => {
    const token = `token-${randomUUID()}`;
    const users = [{ username: 'app', password: 'app-password' }];
    let container: StartedMailwrightContainer;
    let mail: Mailwright;

    beforeAll(async () => {
      await buildImage();
      container = await new MailwrightContainer(IMAGE)
        .withStarttls('require')
        .withAuth('required', users)
        .withMaxMessages(25)
        .withApiToken(token)
        .withTlsNames('mail.compose.test')
        .start();
      mail = await container.client();
    }, IMAGE_BUILD_TIMEOUT_MS);

    afterAll(async () => {
      await container?.stop();
    });

    it("becomes healthy: /api/v1/health answers 200 and Docker's HEALTHCHECK (mailwright healthcheck) passes", async () => {
      const health = await fetch(`${container.getHttpUrl()}/api/v1/health`);
      expect(health.status).toBe(200);
      await waitForHealthy(container.getId());
    });

    it('captures mail sent from the host over STARTTLS and over implicit TLS, trusting the test CA', async () => {
      const ca = await container.getCaCertificate();
      expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
      expect(ca).toBe(mail.ca);
      const inbox = mail.inbox();
      const auth = { user: 'app', pass: 'app-password' };
      await sendMail({ host: container.getHost(), port: container.getSmtpPort(), secure: false, ca, auth, to: inbox.address, subject: 'over STARTTLS' });
      await sendMail({ host: mail.smtps.host, port: mail.smtps.port, secure: true, ca, auth, to: inbox.address, subject: 'over implicit TLS' });

      const starttls = await inbox.waitForMessage({ subject: 'over STARTTLS', timeout: 10_000 });
      expect(starttls).toBeDeliveredOverTls({ mode: 'starttls', minVersion: 'TLSv1.2' });
      expect(starttls).toHaveBeenAuthenticated({ username: 'app' });
      expect(starttls).toHaveRecipient(inbox.address);
      const implicit = await inbox.waitForMessage({ subject: 'over implicit TLS', timeout: 10_000 });
      expect(implicit).toBeDeliveredOverTls({ mode: 'implicit', minVersion: 'TLSv1.2' });
      expect(implicit.listener).toBe('smtps');
    });

    it('serves a certificate for the host this process reaches it by, and for the names of withTlsNames', async () => {
      const ca = await container.getCaCertificate();
      const certificate = await new Promise<PeerCertificate>((resolve, reject) => {
        const socket = tlsConnect({ host: container.getHost(), port: container.getSmtpsPort(), ca, servername: 'mail.compose.test' }, () => {
          resolve(socket.getPeerCertificate());
          socket.destroy();
        });
        socket.once('error', reject);
      });
      expect(checkServerIdentity(container.getHost(), certificate)).toBeUndefined();
      expect(checkServerIdentity('mail.compose.test', certificate)).toBeUndefined();
      expect(checkServerIdentity('elsewhere.test', certificate)).toBeInstanceOf(Error);
    });

    it('applies withApiToken, withAuth and withMaxMessages through the MAILWRIGHT_* variables', async () => {
      expect((await fetch(`${container.getHttpUrl()}/api/v1/messages`)).status).toBe(401);
      const info = (await (await fetch(`${container.getHttpUrl()}/api/v1/info`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        listeners: { name: string; auth: string; starttls: string; host: string }[];
        limits: { maxMessages: number };
      };
      expect(info.limits.maxMessages).toBe(25);
      expect(info.listeners.find((listener) => listener.name === 'smtp')).toMatchObject({ auth: 'required', starttls: 'require', host: '0.0.0.0' });

      const ca = await container.getCaCertificate();
      const base = { host: container.getHost(), port: container.getSmtpPort(), secure: false, ca, to: mail.inbox().address, subject: 'refused' };
      await expect(sendMail(base)).rejects.toMatchObject({ responseCode: 530 });
      await expect(sendMail({ ...base, auth: { user: 'app', pass: 'wrong-password' } })).rejects.toMatchObject({ responseCode: 535 });
    });

    it('runs the server as the non-root user mailwright (uid 10001)', async () => {
      const status = await container.exec(['cat', '/proc/1/status']);
      expect(status.exitCode).toBe(0);
      expect(status.output).toMatch(/^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
      expect(status.output).toMatch(/^Gid:\s+10001\s+10001\s+10001\s+10001$/m);
      const write = await container.exec(['sh', '-c', 'touch /app/x']);
      expect(write.exitCode).not.toBe(0);
    });

    it('keeps the test CA in /data: the same after a restart, and clients that trust it keep working', async () => {
      const before = await container.getCaCertificate();
      await mail.close();
      await container.restart({ timeout: 10 });
      expect(await container.getCaCertificate()).toBe(before);

      mail = await container.client();
      const inbox = mail.inbox();
      await sendMail({
        host: container.getHost(),
        port: container.getSmtpsPort(),
        secure: true,
        ca: before,
        auth: { user: 'app', pass: 'app-password' },
        to: inbox.address,
        subject: 'after the restart',
      });
      expect(await inbox.waitForMessage({ subject: 'after the restart', timeout: 10_000 })).toBeDeliveredOverTls({ mode: 'implicit' });
    });
  });

  describe('docker run (the README line, on free host ports)', () => {
    const started: string[] = [];
    const volumes: string[] = [];

    /** `docker run -d -p … -v <volume>:/data mailwright`, then waits for /api/v1/health. */
    async function runImage(volume: string): Promise<{ id: string; url: string; smtpPort: number; smtpsPort: number }> {
      const id = await docker(['run', '-d', '-p', '127.0.0.1::1025', '-p', '127.0.0.1::1465', '-p', '127.0.0.1::8025', '-v', `${volume}:/data`, IMAGE]);
      started.push(id);
      const url = await waitForHttpApi(id);
      return { id, url, smtpPort: await publishedPort(id, '1025/tcp'), smtpsPort: await publishedPort(id, '1465/tcp') };
    }

    function newVolume(): string {
      const name = `mailwright-test-${randomUUID().slice(0, 8)}`;
      volumes.push(name);
      return name;
    }

    beforeAll(async () => {
      await buildImage();
    }, IMAGE_BUILD_TIMEOUT_MS);

    afterAll(async () => {
      for (const id of started) await removeContainer(id);
      for (const volume of volumes) await removeVolume(volume);
    });

    it(`docker stop returns in under ${MAX_STOP_MS / 1000} s with clients still connected, and the process exits 0`, async () => {
      const { id, url, smtpPort } = await runImage(newVolume());
      // What a test run leaves open: an SDK client waiting on the stream, a pooled SMTP connection.
      const mail = await Mailwright.connect(url, { smtp: { host: '127.0.0.1', port: smtpPort } });
      // Left pending: it ends with its own timeout once the server is gone.
      void mail
        .inbox()
        .waitForMessage({ timeout: 15_000 })
        .catch(() => undefined);
      let idle: Socket | undefined;
      try {
        idle = await openIdleSmtpConnection('127.0.0.1', smtpPort);
        const startedAt = performance.now();
        await docker(['stop', id]);
        const elapsedMs = performance.now() - startedAt;
        console.info(`docker stop took ${Math.round(elapsedMs)} ms`);
        expect(elapsedMs).toBeLessThan(MAX_STOP_MS);
        const state = await containerState(id);
        expect(state).toMatchObject({ Status: 'exited', ExitCode: 0 });
        expect(await docker(['logs', id])).toMatch(/"msg":"mailwright stopped"/);
      } finally {
        idle?.destroy();
        await mail.close();
      }
    });

    it('a container re-created on the same /data volume serves the same test CA, which clients keep trusting', async () => {
      const volume = newVolume();
      const first = await runImage(volume);
      const ca = await (await fetch(`${first.url}/api/v1/tls/ca.pem`)).text();
      await docker(['rm', '--force', first.id]);

      const second = await runImage(volume);
      expect(await (await fetch(`${second.url}/api/v1/tls/ca.pem`)).text()).toBe(ca);
      const mail = await Mailwright.connect(second.url, { smtp: { host: 'localhost', port: second.smtpPort } });
      try {
        const inbox = mail.inbox();
        await sendMail({ host: 'localhost', port: second.smtpPort, secure: false, ca, to: inbox.address, subject: 'trusted CA, new container' });
        expect(await inbox.waitForMessage({ subject: 'trusted CA, new container', timeout: 10_000 })).toBeDeliveredOverTls({ mode: 'starttls' });
      } finally {
        await mail.close();
      }
    });

    it('keeps captured mail in the /data volume (SQLite by default): a container killed and re-created still lists it', async () => {
      const volume = newVolume();
      const first = await runImage(volume);
      const ca = await (await fetch(`${first.url}/api/v1/tls/ca.pem`)).text();
      await sendMail({ host: 'localhost', port: first.smtpPort, secure: false, ca, to: 'kept@example.test', subject: 'kept across containers' });
      // No graceful shutdown: what was acknowledged is on disk already.
      await docker(['kill', first.id]);
      await docker(['rm', '--force', first.id]);

      const second = await runImage(volume);
      const listed = (await (await fetch(`${second.url}/api/v1/messages?to=kept@example.test`)).json()) as { total: number; messages: { subject: string }[] };
      expect(listed).toMatchObject({ total: 1, messages: [{ subject: 'kept across containers' }] });
    });
  });
});
