import nodemailer from 'nodemailer';
import mailhog from 'mailhog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

const HOST = '127.0.0.1';
const REPORT = Buffer.from('name,total\nbea,42\n');

async function send(t: TestServer, mail: nodemailer.SendMailOptions): Promise<string> {
  const transport = nodemailer.createTransport({ host: HOST, port: t.server.smtp.port, secure: false, ignoreTLS: true, name: 'client.example.test' });
  try {
    const info = await transport.sendMail(mail);
    const id = /queued as (\S+)/.exec(info.response)?.[1];
    if (!id) throw new Error(`unexpected reply ${info.response}`);
    return id;
  } finally {
    transport.close();
  }
}

/** The client pointed at the MailHog base URL of /api/v1/info: its host, port, and path plus MailHog's `/api`. */
function clientFor(t: TestServer, headers?: Record<string, string>): mailhog.API {
  const base = new URL(t.server.info().compatibility.mailhog);
  const options = { host: base.hostname, port: Number(base.port), basePath: `${base.pathname}/api`, ...(headers ? { headers } : {}) };
  return mailhog(options as mailhog.Options);
}

interface WithRecord {
  Mailwright: { tls: { mode: string }; envelope: { rcptTo: string[] }; sessionId: string };
  Raw: { From: string; To: string[]; Data: string; Helo: string };
}

describe('MailHog API with the mailhog client', () => {
  let t: TestServer;
  let hog: mailhog.API;
  const ids = { welcome: '', report: '', other: '' };

  beforeAll(async () => {
    t = await startTestServer();
    hog = clientFor(t);
    ids.welcome = await send(t, {
      from: 'App <noreply@app.test>',
      to: 'Bea <b@example.test>',
      cc: 'carol@example.test',
      subject: 'Welcome aboard',
      text: 'Hello Bea, confirm at https://app.test/confirm',
      html: '<p>Hello <b>Bea</b></p>',
    });
    ids.report = await send(t, {
      from: 'reports@shop.test',
      to: 'ab@example.test',
      subject: 'Monthly report',
      text: 'The report is attached. Café crème.',
      attachments: [{ filename: 'report.csv', content: REPORT, contentType: 'text/csv' }],
    });
    ids.other = await send(t, { from: 'noreply@app.test', to: 'b@example.test', subject: 'Second note', text: 'A note with the word pangolin.' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('messages: newest first, with the decoded headers and bodies the client reads, and the delivery record', async () => {
    const result = await hog.messages();
    expect(result?.total).toBe(3);
    expect(result?.count).toBe(3);
    expect(result?.start).toBe(0);
    const [other, report, welcome] = result?.items ?? [];
    expect([other?.ID, report?.ID, welcome?.ID]).toEqual([ids.other, ids.report, ids.welcome]);
    expect(welcome?.subject).toBe('Welcome aboard');
    expect(welcome?.from).toBe('App <noreply@app.test>');
    expect(welcome?.to).toBe('Bea <b@example.test>');
    expect(welcome?.cc).toBe('carol@example.test');
    expect(welcome?.text).toBe('Hello Bea, confirm at https://app.test/confirm');
    expect(welcome?.html).toBe('<p>Hello <b>Bea</b></p>');
    expect(welcome?.date).toBeInstanceOf(Date);
    expect(welcome?.deliveryDate.getTime()).toBe(Date.parse(welcome?.Created ?? ''));
    expect(report?.text).toBe('The report is attached. Café crème.');
    expect(report?.attachments.map((attachment) => [attachment.name, attachment.type])).toEqual([['report.csv', 'text/csv; name=report.csv']]);
    const attachment = report?.attachments[0];
    expect(hog.decode(attachment?.Body ?? '', attachment?.encoding)).toBe(REPORT.toString());

    const record = welcome as unknown as WithRecord;
    expect(record.Raw.From).toBe('noreply@app.test');
    expect(record.Raw.To).toEqual(['b@example.test', 'carol@example.test']);
    expect(record.Raw.Helo).toBe('client.example.test');
    expect(record.Raw.Data).toBe((await t.raw(ids.welcome)).toString('utf8'));
    expect(record.Mailwright.tls.mode).toBe('none');
    expect(record.Mailwright.envelope.rcptTo).toEqual(['b@example.test', 'carol@example.test']);

    const page = await hog.messages(1, 1);
    expect(page?.total).toBe(3);
    expect(page?.count).toBe(1);
    expect(page?.start).toBe(1);
    expect(page?.items[0]?.ID).toBe(ids.report);
  });

  it('search: a full address in to/from matches exactly, a partial one as a substring; containing reads the body', async () => {
    const idsOf = async (query: string, kind?: string): Promise<string[]> => ((await hog.search(query, kind))?.items ?? []).map((item) => item.ID);
    expect(await idsOf('b@example.test', 'to')).toEqual([ids.other, ids.welcome]);
    expect(await idsOf('example.test', 'to')).toEqual([ids.other, ids.report, ids.welcome]);
    expect(await idsOf('carol@example.test', 'to')).toEqual([ids.welcome]);
    expect(await idsOf('noreply@app.test', 'from')).toEqual([ids.other, ids.welcome]);
    expect(await idsOf('oreply@app.test', 'from')).toEqual([]);
    expect(await idsOf('shop.test', 'from')).toEqual([ids.report]);
    expect(await idsOf('pangolin')).toEqual([ids.other]);
    expect(await idsOf('PANGOLIN', 'containing')).toEqual([ids.other]);
    const page = await hog.search('example.test', 'to', 1, 1);
    expect(page?.total).toBe(3);
    expect(page?.items.map((item) => item.ID)).toEqual([ids.report]);
  });

  it('latestFrom, latestTo, latestContaining', async () => {
    expect((await hog.latestFrom('noreply@app.test'))?.ID).toBe(ids.other);
    expect((await hog.latestTo('ab@example.test'))?.ID).toBe(ids.report);
    expect((await hog.latestContaining('confirm at'))?.ID).toBe(ids.welcome);
    expect(await hog.latestTo('nobody@example.test')).toBe(0);
  });

  it('serves the v1 list, one message, its download and a MIME part', async () => {
    const base = `${t.server.info().compatibility.mailhog}/api/v1/messages`;
    const list = (await (await fetch(base)).json()) as { ID: string }[];
    expect(list.map((message) => message.ID)).toEqual([ids.other, ids.report, ids.welcome]);
    const one = (await (await fetch(`${base}/${ids.report}`)).json()) as { ID: string; MIME: { Parts: { Headers: Record<string, string[]> }[] } };
    expect(one.ID).toBe(ids.report);
    expect(one.MIME.Parts.map((part) => part.Headers['Content-Type']?.[0])).toEqual(['text/plain; charset=utf-8', 'text/csv; name=report.csv']);
    const download = await fetch(`${base}/${ids.report}/download`);
    expect(download.headers.get('content-type')).toBe('message/rfc822');
    expect(Buffer.from(await download.arrayBuffer())).toEqual(await t.raw(ids.report));
    const part = await fetch(`${base}/${ids.report}/mime/part/1/download`);
    expect(part.headers.get('content-type')).toBe('text/csv');
    expect(part.headers.get('content-disposition')).toContain('report.csv');
    expect(Buffer.from(await part.arrayBuffer())).toEqual(REPORT);
    expect((await fetch(`${base}/${ids.report}/mime/part/7/download`)).status).toBe(404);
    expect((await fetch(`${base}/no-such-id`)).status).toBe(404);
  });

  it('answers 501 with a JSON reason for what Mailwright cannot do', async () => {
    const released = (await hog.releaseMessage(ids.welcome, { host: 'smtp.example.test', port: '25', email: 'b@example.test' })) as unknown as {
      error: { code: string; message: string };
    };
    expect(released.error.code).toBe('NOT_IMPLEMENTED');
    expect(released.error.message).toMatch(/relay/);
    const jim = await fetch(`${t.server.info().compatibility.mailhog}/api/v2/jim`);
    expect(jim.status).toBe(501);
  });
});

describe('MailHog deletion and access', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({ apiToken: 'hog-secret' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('needs the API token like /api/v1 (the client passes it in a headers option); deleteMessage and deleteAll', async () => {
    const refused = (await clientFor(t).messages()) as unknown as { error: { code: string } };
    expect(refused.error.code).toBe('UNAUTHORIZED');
    const hog = clientFor(t, { Authorization: 'Bearer hog-secret' });
    const first = await send(t, { from: 'a@app.test', to: 'x@example.test', subject: 'one', text: '1' });
    const second = await send(t, { from: 'a@app.test', to: 'x@example.test', subject: 'two', text: '2' });
    const deleted = await hog.deleteMessage(first);
    expect(deleted.statusCode).toBe(200);
    expect((await hog.messages())?.items.map((item) => item.ID)).toEqual([second]);
    expect((await hog.deleteAll()).statusCode).toBe(200);
    expect((await hog.messages())?.total).toBe(0);
    expect(await t.server.store.getMessage(second)).toBeNull();
  });
});
