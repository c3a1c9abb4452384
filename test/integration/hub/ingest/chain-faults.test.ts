/**
 * R7 tamper evidence end to end: events sealed by the device's real EventJournal (so the hub and the firmware agree
 * on the canonical form), published over real MQTT, checked by the hub's chain monitor.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventJournal } from '../../../../firmware/event-journal.js';
import type { HubEvents } from '../../../../hub/event-bus.js';
import type { Heartbeat, LockerEvent } from '../../../../schemas/messages.js';
import { topics } from '../../../../schemas/topics.js';
import { type HubFixture, provisionAndConnect, startTestHub, waitFor } from '../../../support/hub-fixture.js';

const address = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const secret = 'correct-horse-battery-staple-1';

describe('hash chain checks at ingest (R7)', () => {
  let fixture: HubFixture;
  let device: MqttClient;
  let journal: EventJournal;
  let dir: string;
  const faults: HubEvents['device.fault'][] = [];

  const send = (event: LockerEvent) =>
    device.publishAsync(topics.event(address, 'locker'), JSON.stringify(event), { qos: 1 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phones-away-journal-'));
    journal = await EventJournal.open({ dir, deviceId: address.device });
    fixture = await startTestHub();
    fixture.hub.bus.on('device.fault', (f) => {
      faults.push(f);
    });
    device = await provisionAndConnect(fixture.hub, address, secret);
  });

  afterAll(async () => {
    device?.end(true);
    await journal?.close();
    await fixture?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('R7: an intact chain, delivered out of order and with heartbeats in between, raises no fault', async () => {
    const e1 = await journal.appendLockerEvent({ kind: 'locked', phones: 3 }, Date.now());
    const e2 = await journal.appendLockerEvent({ kind: 'door-opened', phones: 3 }, Date.now());
    const e3 = await journal.appendLockerEvent({ kind: 'door-closed', phones: 3 }, Date.now());
    const env = await journal.nextEnvelope(Date.now());
    const heartbeat: Heartbeat = { ...env, uptimeS: 5, software: '0.1.0', queued: 1, board: 'emulated-uno' };
    await send(e1);
    await send(e3); // e2 still on its way: a gap is opened, not a fault
    await device.publishAsync(topics.event(address, 'heartbeat'), JSON.stringify(heartbeat), { qos: 1 });
    await send(e2);
    await waitFor(() => fixture.hub.ingest.stats.accepted >= 4, 'events accepted');
    // As stored on disk (head and one key per link), not the monitor's cache.
    const state = await fixture.hub.chain.stored(address.device);
    expect(state?.links.map((l) => l.seq)).toEqual([e1.seq, e2.seq, e3.seq]);
    expect(state?.open).toEqual([]);
    expect(faults).toEqual([]);
    expect(fixture.hub.chain.stats).toEqual({ gaps: 0, breaks: 0 });
  });

  it('R7: a forged event that skips a known event is a chain break: device.fault (the grid shows it), counted', async () => {
    const links = (await fixture.hub.chain.stored(address.device))?.links ?? [];
    const [first] = links as [{ seq: number; hash: string }];
    const forged: LockerEvent = {
      v: 1,
      id: `${address.device}:99`,
      seq: 99,
      ts: Date.now(),
      prev: first.hash,
      kind: 'unlocked',
      phones: 0,
    };
    await send(forged);
    const fault = await waitFor(() => faults[0], 'device.fault');
    expect(fault).toMatchObject({ ref: address, reason: 'event chain broken' });
    expect(fault.detail).toMatch(/skipping seq/);
    expect(fixture.hub.chain.stats.breaks).toBe(1);
    // Kept as evidence, not dropped.
    await waitFor(() => fixture.hub.db.get('dedupe', forged.id), 'forged event stored');
  });
  it('R1, R7: a power cut after a report was sent and before the device wrote it: the report is kept once, no fault', async () => {
    const other = { site: 'demo-school', room: 'room-2', device: 'room-2-locker' };
    const cutDir = mkdtempSync(join(tmpdir(), 'phones-away-journal-cut-'));
    const client = await provisionAndConnect(fixture.hub, other, secret);
    try {
      let j = await EventJournal.open({ dir: cutDir, deviceId: other.device });
      const publish = (kind: 'locker' | 'report', event: object) =>
        client.publishAsync(topics.event(other, kind), JSON.stringify(event), { qos: 1 });
      await publish('locker', await j.appendLockerEvent({ kind: 'locked', phones: 2 }, Date.now()));
      // What the disk holds at the instant of the cut: everything before the report.
      const beforeCut = mkdtempSync(join(tmpdir(), 'phones-away-journal-snapshot-'));
      // The journal may be renaming meta.json's temporary file into place meanwhile (its head, written after the
      // event): a copy that listed that file would fail to read it. A cut keeps it or not; open() removes leftovers.
      cpSync(cutDir, beforeCut, { recursive: true, filter: (src) => !/\.tmp-[0-9a-f]+$/.test(src) });
      const sent = await j.appendReport({ urgency: 'normal', pressMs: 150 }, Date.now(), (report) => {
        void publish('report', report); // as the device does: sent while the journal writes it
      });
      await waitFor(
        async () => (await fixture.hub.incidents.list()).some((i) => i.eventId === sent.id),
        'report stored',
      );
      // Power cut: the journal comes back as the disk was before the report reached it.
      await j.close();
      rmSync(cutDir, { recursive: true, force: true });
      cpSync(beforeCut, cutDir, { recursive: true });
      rmSync(beforeCut, { recursive: true, force: true });
      j = await EventJournal.open({ dir: cutDir, deviceId: other.device });
      expect(j.pending().map((item) => item.type)).toEqual(['locker']); // the report never reached the disk
      const after = await j.appendLockerEvent({ kind: 'unlocked', phones: 2 }, Date.now());
      expect(after.seq).toBeGreaterThan(sent.seq); // no seq is reused: the block was reserved before the report
      const faultsBefore = faults.length;
      const breaksBefore = fixture.hub.chain.stats.breaks;
      await publish('locker', after);
      await waitFor(
        async () => (await fixture.hub.db.get('dedupe', after.id)) !== undefined,
        'event after the cut stored',
      );
      expect(faults.length).toBe(faultsBefore);
      expect(fixture.hub.chain.stats.breaks).toBe(breaksBefore);
      expect((await fixture.hub.incidents.list()).filter((i) => i.eventId === sent.id)).toHaveLength(1);
      await j.close();
    } finally {
      client.end(true);
      rmSync(cutDir, { recursive: true, force: true });
    }
  });
});
