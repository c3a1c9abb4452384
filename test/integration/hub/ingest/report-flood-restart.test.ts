/**
 * A restart mid-flood (R1, R7): the per-device report rate and the device's flood incident are saved with each report,
 * so a hub restarted while one device floods carries on collapsing its reports into the same flood incident instead
 * of letting another burst through as single incidents (and notices). Collapsed reports keep their own dedupe keys:
 * a resend after the restart is acknowledged with the flood's reference and not stored again.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report, ReportAck } from '../../../../schemas/messages.js';
import { topics } from '../../../../schemas/topics.js';
import {
  connectClient,
  type HubFixture,
  provisionAndConnect,
  startTestHub,
  waitFor,
} from '../../../support/hub-fixture.js';

const address = { site: 'demo-school', room: 'room-2', device: 'flood-restart-1' };
const secret = 'flood-restart-device-secret-01';
const BURST = 3;
const config = { limits: { reports: { perDevicePerMinute: 1, burst: BURST } } };

function report(seq: number): Report {
  return {
    v: 1,
    id: `${address.device}:${seq}`,
    seq,
    ts: Date.now(),
    urgency: 'normal',
    pressMs: 120,
    queuedMs: 0,
  };
}

describe('report flood across a hub restart (real aedes, real LevelDB)', () => {
  let fixture: HubFixture | undefined;
  let device: MqttClient | undefined;
  const acks = new Map<string, ReportAck>();

  afterAll(async () => {
    device?.end(true);
    await fixture?.dispose();
  });

  async function listen(client: MqttClient) {
    client.on('message', (topic, payload) => {
      if (topic !== topics.reportAck(address)) return;
      const ack = JSON.parse(payload.toString()) as ReportAck;
      acks.set(ack.id, ack);
    });
    await client.subscribeAsync(topics.reportAck(address), { qos: 1 });
  }

  async function press(seqs: number[]) {
    for (const seq of seqs)
      await device?.publishAsync(topics.event(address, 'report'), JSON.stringify(report(seq)), { qos: 1 });
    await waitFor(() => seqs.every((seq) => acks.has(`${address.device}:${seq}`)), 'acks');
  }

  it('R1, R7: after a restart mid-flood, the flood goes on in the same incident; a resent collapsed report is stored once', async () => {
    fixture = await startTestHub({ config });
    device = await provisionAndConnect(fixture.hub, address, secret);
    await listen(device);
    await press([1, 2, 3, 4, 5]); // the burst, then two beyond it
    const before = await fixture.hub.incidents.list({ limit: 100 });
    const flood = before.find((i) => i.kind === 'tamper');
    expect(before.filter((i) => i.kind === 'report')).toHaveLength(BURST);
    expect(flood?.tamperReason).toBe('report-flood');
    expect(acks.get(`${address.device}:5`)?.ref).toBe(flood?.ref);

    // Restart on the same data (the rate refills one report a minute: not within this test).
    device.end(true);
    await fixture.stop();
    fixture = await startTestHub({ dataDir: fixture.dataDir, config });
    device = await connectClient(fixture.hub.mqttPort, {
      clientId: address.device,
      username: address.device,
      password: secret,
    });
    await listen(device);
    acks.clear();
    await press([6, 7, 8]);
    await press([4]); // a collapsed report from before the restart, resent

    const after = await fixture.hub.incidents.list({ limit: 100 });
    expect(after.filter((i) => i.kind === 'report')).toHaveLength(BURST); // no new burst of single incidents
    expect(after.filter((i) => i.kind === 'tamper')).toHaveLength(1);
    for (const seq of [4, 6, 7, 8]) expect(acks.get(`${address.device}:${seq}`)?.ref).toBe(flood?.ref);
    const stored = await fixture.hub.incidents.getByRef(flood?.ref as string);
    expect(stored?.flood?.reports).toBe(5); // 4, 5 before the restart; 6, 7, 8 after; the resent 4 not again
    expect(fixture.hub.ingest.stats.duplicates).toBe(1);
  });
});
