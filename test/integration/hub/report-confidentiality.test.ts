/**
 * Reports stay with the people allowed to read them (R4, R6, S5, S6), tried against a real hub over its real HTTP API
 * and live stream, with reports arriving from a device over MQTT: a concern about the head leaves the head no audit
 * row, export line, count or stream event; the head sees only that an unread report exists; a concern with the
 * governors is theirs to route or close; and each role's stream carries exactly what its GET routes give it, ending
 * the moment its session ends or changes.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditAnchor } from '../../../hub/audit/audit-anchor.js';
import { silentLogger } from '../../../hub/log.js';
import type { ReportAck } from '../../../schemas/messages.js';
import { topics } from '../../../schemas/topics.js';
import { type HubFixture, provisionAndConnect, startTestHub, waitFor } from '../../support/hub-fixture.js';
import { type LiveStream, openStream } from '../../support/sse-client.js';
import { data, StaffClient } from '../../support/staff-client.js';

const address = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const PASSWORD = 'tulip lantern orbit 42';
const ROLES = {
  coord: ['coordinator'],
  dsl1: ['dsl'],
  head1: ['head'],
  gov1: ['governor'],
  office1: ['office'],
  teacher1: ['teacher'],
  itadmin: ['admin'],
} as const;
type Name = keyof typeof ROLES;

interface Listing {
  items: ({ id: string; ref: string; status: string; ageMs: number } & Record<string, unknown>)[];
  unacknowledged: number;
}

describe('report confidentiality (R4, R6, S5, S6)', () => {
  let fixture: HubFixture;
  let device: MqttClient;
  const acks: ReportAck[] = [];
  let seq = 0;
  const staff = {} as Record<Name, StaffClient>;

  async function report(): Promise<string> {
    seq += 1;
    const id = `${address.device}:${seq}`;
    const payload = { v: 1, id, seq, ts: Date.now(), urgency: 'urgent', pressMs: 150, queuedMs: 0 };
    await device.publishAsync(topics.event(address, 'report'), JSON.stringify(payload), { qos: 1 });
    return (await waitFor(() => acks.find((a) => a.id === id), 'report ack')).ref;
  }

  /** Everything the head could learn from: the inbox, figures, the audit log, its export and its verification. */
  async function headView() {
    const head = staff.head1;
    const listing = data(await head.get<Listing>('/api/incidents'));
    const stats = data(
      await head.get<Record<string, unknown>>('/api/incidents/stats?from=2020-01-01&to=2099-12-31'),
    );
    const audit = data(await head.get<Record<string, unknown>[]>('/api/audit?limit=1000'));
    const exported = (await head.get('/api/audit/export')).text;
    const verify = data(await head.get<{ ok: boolean; checked: number }>('/api/audit/verify'));
    return {
      ids: listing.items.map((i) => i.id),
      unacknowledged: listing.unacknowledged,
      stats,
      audit: audit.map(({ cursor: _c, ...row }) => row),
      exported,
      verify,
    };
  }

  beforeAll(async () => {
    fixture = await startTestHub();
    const { hub } = fixture;
    device = await provisionAndConnect(hub, address, 'device-secret-123456');
    device.on('message', (topic, payload) => {
      if (topic === topics.reportAck(address)) acks.push(JSON.parse(payload.toString()) as ReportAck);
    });
    await device.subscribeAsync(topics.deviceInbox(address), { qos: 1 });
    for (const [name, roles] of Object.entries(ROLES) as [Name, readonly string[]][]) {
      await hub.users.add(name, PASSWORD, [...roles] as never, Date.now());
      staff[name] = new StaffClient(hub.httpUrl, name, PASSWORD);
      expect((await staff[name].signIn()).status).toBe(200);
    }
  });

  afterAll(async () => {
    device?.end(true);
    await fixture?.dispose();
  });

  it('R4: the head sees that an unread report exists, but cannot read, acknowledge or close it', async () => {
    const ref = await report();
    const head = staff.head1;
    const coordRow = data(await staff.coord.get<Listing>('/api/incidents')).items.find((i) => i.ref === ref);
    const row = data(await head.get<Listing>('/api/incidents')).items.find((i) => i.id === coordRow?.id);
    expect(row).toMatchObject({ status: 'reported', restricted: true });
    for (const field of ['ref', 'room', 'device', 'urgency', 'kind', 'category', 'reportedAt'])
      expect(row, field).not.toHaveProperty(field);
    expect((await head.get(`/api/incidents/${ref}`)).body).toMatchObject({ error: { code: 'E_NOT_YET' } });
    expect((await head.get(`/api/incidents/${ref}/export`)).status).toBe(403);
    expect((await head.post(`/api/incidents/${ref}/acknowledge`)).status).toBe(403);
    expect((await head.post(`/api/incidents/${ref}/close`, { outcome: 'x', category: 'other' })).status).toBe(
      403,
    );
    // Once the coordinator has read it and found it is not about staff, the head reads it in full.
    expect(
      data(await staff.coord.post(`/api/incidents/${ref}/acknowledge`, { category: 'bullying' })),
    ).toMatchObject({ status: 'acknowledged', category: 'bullying' });
    expect(data(await head.get(`/api/incidents/${ref}`))).toMatchObject({
      ref,
      room: 'room-1',
      category: 'bullying',
    });
  });

  it("S5: each role's live stream carries exactly what its GET routes give it", async () => {
    const names = Object.keys(ROLES) as Name[];
    const streams = {} as Record<Name, LiveStream>;
    for (const name of names) streams[name] = await openStream(fixture.hub.httpUrl, staff[name].cookie);
    // A locker state change for the Today grid, a new report, and its acknowledgement.
    const state = {
      v: 1,
      ts: Date.now(),
      mode: 'lesson',
      locked: true,
      doorOpen: false,
      phones: 3,
      slots: 30,
      keyOn: false,
    };
    await device.publishAsync(topics.state(address, 'locker'), JSON.stringify(state), {
      qos: 1,
      retain: true,
    });
    const ref = await report();
    await staff.coord.post(`/api/incidents/${ref}/acknowledge`, {});
    const reads: Record<Name, { rooms: number; incidents: Listing | null }> = {} as never;
    for (const name of names) {
      const rooms = await staff[name].get<unknown[]>('/api/rooms');
      const incidents = await staff[name].get<Listing>('/api/incidents');
      reads[name] = { rooms: rooms.status, incidents: incidents.status === 200 ? data(incidents) : null };
    }
    for (const name of names) {
      await staff[name].post('/api/logout');
      await streams[name].ended;
      const events = streams[name].events;
      const devices = events.filter((e) => e.event === 'device');
      if (reads[name].rooms === 200) expect(devices.length, `${name} device events`).toBeGreaterThan(0);
      else expect(devices, `${name} gets no device grid`).toEqual([]);
      const incidentEvents = events
        .filter((e) => e.event === 'incident')
        .map((e) => e.data as Listing['items'][0]);
      const last = incidentEvents.filter((i) => i.ref === ref).at(-1);
      const listed = reads[name].incidents?.items.find((i) => i.ref === ref);
      if (!listed) expect(last, `${name} gets no event for ${ref}`).toBeUndefined();
      else {
        const { ageMs: _age, ...summary } = listed;
        expect(last, `${name} stream = GET for ${ref}`).toEqual(summary);
      }
      expect((await staff[name].signIn(Date.now() + 30_000)).status).toBe(200);
    }
  });

  it("R6, S6: the audit chain's daily anchor tells the head no count of the rows it cannot read", async () => {
    const { hub } = fixture;
    const anchor = new AuditAnchor({
      audit: hub.audit,
      send: async () => {},
      now: Date.now,
      log: silentLogger,
    });
    await anchor.anchor(Date.now());
    // A concern about the head, with the governors: rows the head may not read, between two anchors.
    const ref = await report();
    await staff.coord.post(`/api/incidents/${ref}/acknowledge`, { aboutStaff: 'head', category: 'other' });
    await staff.gov1.post(`/api/incidents/${ref}/note`, { text: 'Chair of governors informed.' });
    await anchor.anchor(Date.now());
    // An anchor row as hubs before this change wrote it, with the chain's entry count.
    const head = await hub.audit.currentHead();
    await hub.audit.markSent(head, Date.now(), {
      actor: 'system:audit-anchor',
      action: 'audit.anchor-sent',
      target: 'audit',
      after: { seq: head.seq, hash: head.hash },
    });
    const view = await headView();
    const exported = view.exported
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const anchors = [...view.audit, ...exported].filter((row) => row.action === 'audit.anchor-sent');
    expect(anchors).toHaveLength(6);
    // The attack: two anchors' entry counts, less the head's own rows between them, count the hidden rows.
    const counts = anchors.flatMap((row) => {
      const seq = (row.after as Record<string, unknown> | undefined)?.seq;
      return seq === undefined ? [] : [seq];
    });
    expect(counts, 'entry counts in anchor rows the head reads').toEqual([]);
    expect(JSON.stringify(view.audit)).not.toContain(ref);
  });

  it('R6, S6: a concern about the head leaves the head no audit row, export line, count or stream event', async () => {
    const before = await headView();
    const stream = await openStream(fixture.hub.httpUrl, staff.head1.cookie);
    const ref = await report();
    const coord = staff.coord;
    const gov = staff.gov1;
    // Acknowledged as about the head: routed to the governors in the same step.
    expect(
      data(await coord.post(`/api/incidents/${ref}/acknowledge`, { aboutStaff: 'head', category: 'other' })),
    ).toMatchObject({ status: 'acknowledged', routeTo: 'governor' });
    // The governors work on it; the coordinator may add a note but not pull it back or close it.
    expect(
      data(await gov.post(`/api/incidents/${ref}/note`, { text: 'Chair of governors spoke to the LADO.' })),
    ).toMatchObject({ status: 'action-noted' });
    expect((await coord.post(`/api/incidents/${ref}/route`, { to: 'coordinator' })).body).toMatchObject({
      error: { code: 'E_FORBIDDEN' },
    });
    expect((await staff.dsl1.post(`/api/incidents/${ref}/close`, { outcome: 'x' })).status).toBe(403);
    expect((await staff.head1.get(`/api/incidents/${ref}`)).status).toBe(404);
    expect(
      data(await gov.post(`/api/incidents/${ref}/category`, { category: 'contact', reason: 'LADO advice.' })),
    ).toMatchObject({ category: 'contact' });
    expect(
      data(await gov.post(`/api/incidents/${ref}/close`, { outcome: 'Referred to the LADO.' })),
    ).toMatchObject({
      status: 'closed',
      category: 'contact',
    });
    // The governors' log holds every step; the head's view is exactly as before the report.
    const govAudit = data(await gov.get('/api/incidents')) as Listing;
    expect(govAudit.items.map((i) => i.ref)).toContain(ref);
    expect(await headView()).toEqual(before);
    // Signing out ends the stream, so every event sent before it has arrived.
    await staff.head1.post('/api/logout');
    await stream.ended;
    const text = JSON.stringify(stream.events);
    expect(text).not.toContain(ref);
    const incidentEvents = stream.events.filter((e) => e.event.startsWith('incident'));
    // While unread it showed only as a waiting report (no room, no urgency), then went; nothing after that.
    expect(incidentEvents.map((e) => e.event)).toEqual(['incident', 'incident-removed']);
    expect(Object.keys(incidentEvents[0]?.data as object).sort()).toEqual([
      'id',
      'receivedAt',
      'restricted',
      'status',
    ]);
    expect(stream.events.at(-1)?.event).toBe('locked');
  });

  it('S2, S5: the stream ends at once when the session ends or the account changes', async () => {
    const teacher = staff.teacher1;
    const stream = await openStream(fixture.hub.httpUrl, teacher.cookie);
    await waitFor(() => stream.events.find((e) => e.event === 'hello'), 'hello');
    const started = Date.now();
    // A role change that grants nothing to read reports takes effect at once and ends every session of the account.
    const admin = staff.itadmin;
    expect((await admin.post('/api/users/teacher1/role', { roles: ['office'] })).status).toBe(200);
    await stream.ended;
    // Far inside the 15 s keepalive the stream used to wait for.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(stream.events.at(-1)?.event).toBe('locked');
    expect((await teacher.get('/api/session')).status).toBe(401);
  });
});
