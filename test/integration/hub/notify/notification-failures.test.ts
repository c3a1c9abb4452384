/**
 * A notice whose retries ran out (R2) is not only logged: /healthz turns unhealthy (and, to the operator's token, says
 * why, without counts of anything), and the staff who handle incidents get the detail signed in, at
 * /api/notifications/failed (the Reports page shows it). The mail server here is a closed port on loopback; the
 * report comes over real MQTT.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FailedNotice } from '../../../../hub/http/routes/notification-routes.js';
import type { ReportAck } from '../../../../schemas/messages.js';
import { topics } from '../../../../schemas/topics.js';
import { type HubFixture, provisionAndConnect, startTestHub, waitFor } from '../../../support/hub-fixture.js';
import { data, StaffClient } from '../../../support/staff-client.js';

const address = { site: 'demo-school', room: 'room-3', device: 'room-3-locker' };
const PASSWORD = 'a-long-enough-staff-passphrase-42';
/** The operator's token: /healthz gives its reasons only with it (bare, it says healthy or degraded). */
const TOKEN = 'notification-failures-scrape-token';
const operator = { authorization: `Bearer ${TOKEN}` };

/** A loopback port that nothing listens on (held, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

describe('notifications whose retries ran out (R2)', () => {
  let fixture: HubFixture;
  let device: MqttClient;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pa-notify-failed-'));
    writeFileSync(join(dir, 'metrics.token'), `${TOKEN}\n`, { mode: 0o600 });
    fixture = await startTestHub({
      config: {
        metrics: { credentialsFile: join(dir, 'metrics.token') },
        notifications: {
          dashboardUrl: 'https://hub.school.example/',
          email: {
            host: '127.0.0.1',
            port: await closedPort(),
            from: 'hub@school.example',
            to: { coordinator: ['coord@school.example'] },
          },
          retries: 0,
          retryDelaySeconds: 1,
        },
      },
    });
    device = await provisionAndConnect(fixture.hub, address, 'correct-horse-battery-staple-3');
  });

  afterAll(async () => {
    device?.end(true);
    await fixture?.dispose();
  });

  it('R2: /healthz says a notice failed, without counts; signed-in staff see which one', async () => {
    const { hub } = fixture;
    const healthy = await fetch(`${hub.httpUrl}/healthz`, { headers: operator });
    const before = (await healthy.json()) as { problems: string[] };
    expect(before.problems.join(' ')).not.toMatch(/notification/);

    const acked = new Promise<ReportAck>((resolve) =>
      device.on('message', (_t, payload) => resolve(JSON.parse(payload.toString()) as ReportAck)),
    );
    await device.subscribeAsync(topics.reportAck(address), { qos: 1 });
    const report = {
      v: 1,
      id: `${address.device}:1`,
      seq: 1,
      ts: Date.now(),
      urgency: 'normal',
      pressMs: 90,
      queuedMs: 0,
    };
    await device.publishAsync(topics.event(address, 'report'), JSON.stringify(report), { qos: 1 });
    const ack = await acked;
    await waitFor(
      async () => (await hub.safeguarding.notifier?.failed())?.length === 1,
      'the notice to fail',
      20_000,
    );

    // Anyone may ask whether the hub is healthy, and learns only that it is not.
    const bare = await fetch(`${hub.httpUrl}/healthz`);
    expect(bare.status).toBe(503);
    expect(await bare.json()).toEqual({ status: 'degraded' });
    const response = await fetch(`${hub.httpUrl}/healthz`, { headers: operator });
    expect(response.status).toBe(503);
    const health = (await response.json()) as { problems: string[] };
    expect(health.problems).toContain(
      'a notification could not be sent after every retry (listed on the dashboard)',
    );
    expect(JSON.stringify(health.problems)).not.toContain(ack.ref);

    expect((await fetch(`${hub.httpUrl}/api/notifications/failed`)).status).toBe(401);
    await hub.users.add('coord', PASSWORD, ['coordinator'], Date.now());
    const coord = new StaffClient(hub.httpUrl, 'coord', PASSWORD);
    expect((await coord.signIn()).status).toBe(200);
    const failed = data(await coord.get<FailedNotice[]>('/api/notifications/failed'));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      channel: 'email',
      event: 'reported',
      ref: ack.ref,
      room: address.room,
      attempts: 1,
    });

    await hub.users.add('office1', PASSWORD, ['office'], Date.now());
    const office = new StaffClient(hub.httpUrl, 'office1', PASSWORD);
    expect((await office.signIn()).status).toBe(200);
    expect((await office.get('/api/notifications/failed')).status).toBe(403);
  }, 60_000);
});

describe('failed notices are listed only to those who may read their report (R2, R4, R6)', () => {
  let fixture: HubFixture;
  let device: MqttClient;

  beforeAll(async () => {
    fixture = await startTestHub({
      config: {
        notifications: {
          dashboardUrl: 'https://hub.school.example/',
          email: {
            host: '127.0.0.1',
            port: await closedPort(),
            from: 'hub@school.example',
            to: { dsl: ['dsl@school.example'] },
          },
          retries: 0,
          retryDelaySeconds: 1,
        },
      },
    });
    device = await provisionAndConnect(fixture.hub, address, 'correct-horse-battery-staple-3');
  });

  afterAll(async () => {
    device?.end(true);
    await fixture?.dispose();
  });

  it('R4, R6: the head never sees the failed escalation of an unread report, nor once it is routed to the governors', async () => {
    const { hub } = fixture;
    const acked = new Promise<ReportAck>((resolve) =>
      device.on('message', (_t, payload) => resolve(JSON.parse(payload.toString()) as ReportAck)),
    );
    await device.subscribeAsync(topics.reportAck(address), { qos: 1 });
    const report = {
      v: 1,
      id: `${address.device}:1`,
      seq: 1,
      ts: Date.now(),
      urgency: 'normal',
      pressMs: 90,
      queuedMs: 0,
    };
    await device.publishAsync(topics.event(address, 'report'), JSON.stringify(report), { qos: 1 });
    const { ref } = await acked;
    // Nobody read it by its deadline: escalated to the DSL, whose email fails.
    expect(await hub.safeguarding.escalation.tick(Date.now() + 7 * 86_400_000)).toEqual([ref]);
    await waitFor(
      async () => (await hub.safeguarding.notifier?.failed())?.some((j) => j.notice?.event === 'escalated'),
      'the escalation notice to fail',
      20_000,
    );
    for (const [name, roles] of [
      ['head1', ['head']],
      ['dsl1', ['dsl']],
      ['coord1', ['coordinator']],
    ] as const)
      await hub.users.add(name, PASSWORD, [...roles], Date.now());
    const signedIn = async (name: string) => {
      const client = new StaffClient(hub.httpUrl, name, PASSWORD);
      expect((await client.signIn()).status).toBe(200);
      return client;
    };
    const [head, dsl, coord] = [await signedIn('head1'), await signedIn('dsl1'), await signedIn('coord1')];
    const refs = async (client: StaffClient) =>
      data(await client.get<FailedNotice[]>('/api/notifications/failed')).map((n) => n.ref);

    expect(await refs(dsl)).toContain(ref);
    expect(await refs(head), 'the head, while the report is unread').not.toContain(ref);
    // Read: about the head, so with the governors from now on.
    expect(
      data(await coord.post(`/api/incidents/${ref}/acknowledge`, { aboutStaff: 'head', category: 'other' })),
    ).toMatchObject({ routeTo: 'governor' });
    expect(await refs(head), 'the head, once the concern is with the governors').not.toContain(ref);
    expect(await refs(dsl)).toContain(ref);
  }, 60_000);
});
