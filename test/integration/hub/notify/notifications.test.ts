/**
 * Notifications against real servers on loopback: a real SMTP server (smtp-server) receives the emails nodemailer
 * sends, and a local HTTP server receives the webhook, which fails once to prove the retry. Reports come over MQTT.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportAck } from '../../../../schemas/messages.js';
import { topics } from '../../../../schemas/topics.js';
import { connectClient, type HubFixture, startTestHub, waitFor } from '../../../support/hub-fixture.js';
import { type SmtpCapture, startSmtpCapture } from '../../../support/smtp-capture.js';

const address = { site: 'demo-school', room: 'room-2', device: 'room-2-locker' };

describe('notifications (R2, D1): real SMTP server and webhook on loopback', () => {
  let smtp: SmtpCapture;
  let web: Server;
  let fixture: HubFixture;
  let device: MqttClient;
  const hooks: Record<string, unknown>[] = [];
  let webhookCalls = 0;
  let incidentCalls = 0;
  let failedOnce = false;
  const acks: ReportAck[] = [];

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    const smtpPort = smtp.port;
    web = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        webhookCalls += 1;
        // The first incident delivery fails: the notifier must retry, not drop it. (The daily audit anchor, sent
        // at start, is not an incident notice.)
        if ((JSON.parse(body) as { type: string }).type.startsWith('incident.')) incidentCalls += 1;
        if (incidentCalls === 1 && !failedOnce) {
          failedOnce = true;
          res.writeHead(503).end();
          return;
        }
        hooks.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((ok) => web.listen(0, '127.0.0.1', ok));
    const webPort = (web.address() as AddressInfo).port;

    fixture = await startTestHub({
      config: {
        notifications: {
          dashboardUrl: 'https://hub.school.example/',
          email: {
            host: '127.0.0.1',
            port: smtpPort,
            from: 'hub@school.example',
            to: { coordinator: ['coord@school.example'], dsl: ['dsl@school.example'] },
          },
          webhook: { url: `http://127.0.0.1:${webPort}/hook` },
          retryDelaySeconds: 1,
        },
      },
    });
    const { hub } = fixture;
    await hub.registry.provision({
      id: address.device,
      address,
      secret: 'device-secret-123456',
      lockerMode: 'lesson',
      now: Date.now(),
    });
    device = await connectClient(hub.mqttPort, {
      clientId: address.device,
      username: address.device,
      password: 'device-secret-123456',
    });
    device.on('message', (topic, payload) => {
      if (topic === topics.reportAck(address)) acks.push(JSON.parse(payload.toString()) as ReportAck);
    });
    await device.subscribeAsync(topics.deviceInbox(address), { qos: 1 });
  });

  afterAll(async () => {
    device?.end(true);
    await fixture?.dispose();
    await smtp?.close();
    await new Promise<void>((ok) => web?.close(() => ok()));
  });

  it('R2, D1: a report emails the coordinator (no content, a link) and reaches the webhook after a retry', async () => {
    const id = `${address.device}:1`;
    const report = { v: 1, id, seq: 1, ts: Date.now(), urgency: 'urgent', pressMs: 150, queuedMs: 0 };
    await device.publishAsync(topics.event(address, 'report'), JSON.stringify(report), { qos: 1 });
    const { ref } = await waitFor(() => acks.find((a) => a.id === id), 'report ack');

    const mail = await waitFor(() => smtp.mails.find((m) => m.raw.includes(ref)), 'email to the coordinator');
    expect(mail.to).toEqual(['coord@school.example']);
    expect(mail.raw).toMatch(new RegExp(`Subject: \\[phones-away\\] URGENT Safeguarding report ${ref}`));
    expect(mail.raw).toContain(`https://hub.school.example/incidents/${ref}`);
    expect(mail.raw).toContain('room-2');

    const hook = await waitFor(() => hooks.find((h) => h.ref === ref), 'webhook after retry', 15_000);
    expect(webhookCalls).toBeGreaterThanOrEqual(2);
    expect(Object.keys(hook).sort()).toEqual([
      'at',
      'event',
      'kind',
      'link',
      'ref',
      'role',
      'room',
      'type',
      'urgency',
    ]);
    expect(hook).toMatchObject({
      type: 'incident.reported',
      room: 'room-2',
      urgency: 'urgent',
      role: 'coordinator',
    });
    // The hook is received before the hub has read the answer and dropped the job: wait for that, not a race.
    await waitFor(
      async () => (await fixture.hub.safeguarding.notifier?.pending())?.length === 0,
      'the notification queue to empty',
    );
  });

  it('R2: an escalation emails the DSL; the notice never carries note text', async () => {
    const incident = await waitFor(
      async () => (await fixture.hub.incidents.list()).find((i) => i.status === 'reported'),
      'stored incident',
    );
    const escalated = await fixture.hub.safeguarding.escalation.tick(Date.now() + 2 * 86_400_000);
    expect(escalated).toContain(incident.ref);
    const mail = await waitFor(
      () => smtp.mails.find((m) => m.to.includes('dsl@school.example') && m.raw.includes(incident.ref)),
      'escalation email',
    );
    expect(mail.raw).toContain('(escalated)');
    await fixture.hub.safeguarding.incidents.apply(incident.id, { type: 'acknowledge' }, 'user:dsl1');
    await fixture.hub.safeguarding.incidents.apply(
      incident.id,
      { type: 'note', text: 'SECRET-NOTE-TEXT about a pupil' },
      'user:dsl1',
    );
    await waitFor(() => hooks.some((h) => h.type === 'incident.escalated'), 'escalation webhook');
    await fixture.hub.safeguarding.notifier?.flush();
    expect(JSON.stringify({ mails: smtp.mails, hooks })).not.toContain('SECRET-NOTE-TEXT');
  });
});
