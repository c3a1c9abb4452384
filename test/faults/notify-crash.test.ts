/**
 * The first notice of a report is durable (R2): the hub is killed (SIGKILL, its own process) after it stored a report
 * and acknowledged it to the device, but before it could send the coordinator's email: the mail server accepts the
 * connection and never greets, so no email can have left. After the restart the email is sent, exactly once, and
 * the job is gone. The notice's job is written in the incident's own atomic batch (hub/ingest/ingest.ts), so there is
 * no moment at which the incident is stored and its notice is not.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/hub-fixture.js';
import { freePorts, HubProcess } from '../support/hub-process.js';
import { type SmtpCapture, startSmtpCapture } from '../support/smtp-capture.js';
import { startDevices } from './fault-support.js';

describe('faults: hub killed between storing a report and sending its notice', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phones-away-notifycrash-'));
  let smtpPort: number;
  let stall: Server;
  const stalled: Socket[] = [];
  let smtp: SmtpCapture | undefined;
  /** The messages received (none before the mail server comes back). */
  const mails = () => (smtp?.mails ?? []).map((m) => m.raw);
  let hub: HubProcess;

  beforeAll(async () => {
    [smtpPort] = (await freePorts(1)) as [number];
    // A mail server that takes the connection and never says hello: nodemailer waits for its greeting.
    stall = createServer((socket) => {
      socket.on('error', () => {});
      stalled.push(socket);
    });
    await new Promise<void>((ok) => stall.listen(smtpPort, '127.0.0.1', ok));
    const dataDir = join(dir, 'hub');
    mkdirSync(dataDir);
    hub = await HubProcess.start({
      dataDir,
      config: {
        notifications: {
          dashboardUrl: 'https://hub.school.example/',
          email: {
            host: '127.0.0.1',
            port: smtpPort,
            from: 'hub@school.example',
            to: { coordinator: ['coord@school.example'] },
          },
          retryDelaySeconds: 1,
        },
      },
    });
  });

  afterAll(async () => {
    for (const s of stalled) s.destroy();
    stall?.close();
    await hub?.dispose();
    await smtp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('R2: the notice stored with the report is sent after the restart, exactly once', async () => {
    const [device] = await startDevices(hub, 'notifycrash', 1);
    if (!device) throw new Error('no device');
    const id = device.report('urgent');
    await waitFor(() => device.acks.get(id), 'the report acknowledged', 20_000);
    const ref = device.acks.get(id)?.ref as string;
    // Stored and acknowledged; the email cannot have gone (the mail server has not even greeted). Crash now.
    await hub.kill('SIGKILL');
    await device.stop();
    expect(mails()).toEqual([]);

    // The mail server comes back as a real one on the same port; then the hub.
    for (const s of stalled) s.destroy();
    await new Promise<void>((ok) => stall.close(() => ok()));
    smtp = await startSmtpCapture(smtpPort);
    await hub.restart();

    await waitFor(() => mails().length > 0, 'the email after the restart', 30_000);
    await waitFor(
      async () => (await hub.request<unknown[]>({ cmd: 'notify-jobs' })).length === 0,
      'the notification job to be done',
      30_000,
    );
    expect(mails()).toHaveLength(1);
    expect(mails()[0]).toContain(ref);
    expect(mails()[0]).toMatch(/URGENT Safeguarding report/);

    // A second restart sends nothing again: the job left with the email.
    await hub.restart();
    await hub.stats();
    expect(await hub.request<unknown[]>({ cmd: 'notify-jobs' })).toEqual([]);
    expect(mails()).toHaveLength(1);
  }, 120_000);
});
