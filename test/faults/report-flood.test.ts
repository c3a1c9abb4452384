/**
 * Report flood (R1, R7): one device's credentials (a Pi's SD card copied) publish 10,000 reports as fast as MQTT.js
 * sends them, from a process of its own (test/support/flood-entry.ts), against the real hub in its own process. Every one is stored and acknowledged (never dropped), but
 * beyond the device's rate they collapse into one urgent tamper incident with one notice; the coordinator gets one
 * email per report within the burst and one tamper alert, not 10,000. Meanwhile reports from six other rooms are
 * acknowledged while the flood is still going: they are not queued behind it, and their p99 round trip is under a
 * quarter of the flood's duration (relative, as this machine is shared; the figures go to
 * artifacts/faults/report-flood.md).
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../hub/incidents/incident-store.js';
import { DEFAULT_LIMITS } from '../../hub/limits.js';
import { percentile, writeArtifact } from '../support/artifacts.js';
import { repoRoot, waitFor } from '../support/hub-fixture.js';
import { freePorts, HubProcess } from '../support/hub-process.js';
import { type SmtpCapture, startSmtpCapture } from '../support/smtp-capture.js';
import { SECRET, SITE, startDevices } from './fault-support.js';

const FLOOD = 10_000;
const flooder = { site: SITE, room: 'staffroom', device: 'flood-1' };

describe('faults: 10,000 reports from one device', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phones-away-flood-'));
  let hub: HubProcess;
  let smtp: SmtpCapture;

  beforeAll(async () => {
    const [smtpPort] = (await freePorts(1)) as [number];
    smtp = await startSmtpCapture(smtpPort);
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
    await hub?.dispose();
    await smtp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('R1, R7: all 10,000 stored and acked, collapsed into one tamper alert; other rooms are acked during the flood', async () => {
    const calm = await startDevices(hub, 'calm', 6);
    // The flood strikes a hub that has been running: each other room has reported once already. (A hub's first report
    // after it starts loads and compiles its report path, 30–50 ms here under tsx; that is start-up, not the flood.)
    for (const d of calm) d.report('normal');
    await waitFor(
      () => calm.every((d) => d.pending.size === 0),
      'every other room has reported once',
      30_000,
    );
    await hub.request({ cmd: 'provision', secret: SECRET, devices: [{ ...flooder, id: flooder.device }] });
    // The flooder is a process of its own, as a copied SD card in another Pi would be: this process only measures
    // the other rooms, and does not spend its own event loop on the flood's 10,000 acks.
    const flooding = fork(join(repoRoot, 'test', 'support', 'flood-entry.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let started = 0;
    let floodDoneAt = 0;
    let floodResult: { acked: number; refs: string[] } | undefined;
    const floodStarted = new Promise<void>((resolve) =>
      flooding.on('message', (message: { started?: boolean; acked?: number; refs?: string[] }) => {
        if (message.started) {
          started = performance.now();
          resolve();
        } else if (message.refs) {
          floodDoneAt = performance.now();
          floodResult = { acked: message.acked ?? 0, refs: message.refs };
        }
      }),
    );
    flooding.send({ port: hub.mqttPort, address: flooder, secret: SECRET, count: FLOOD });
    await floodStarted;
    // Other rooms report every 250 ms (each within its rate) for as long as the flood runs.
    let calmSent = 0;
    while (!floodResult && flooding.exitCode === null && performance.now() - started < 180_000) {
      for (const d of calm) if (d.sent.reports.length < DEFAULT_LIMITS.reports.burst) d.report('normal');
      calmSent = calm.reduce((n, d) => n + d.sent.reports.length, 0);
      await new Promise((r) => setTimeout(r, 250));
    }
    const { acked, refs } = await waitFor(() => floodResult, 'every flood report acknowledged', 30_000);
    expect(acked).toBe(FLOOD);
    const floodMs = floodDoneAt - started;
    await waitFor(() => calm.every((d) => d.pending.size === 0), 'every other room acknowledged', 30_000);

    // Not queued behind the flood: every other room's report sent during it was acknowledged before it ended.
    const calmAcks = calm.flatMap((d) => [...d.ackedAt.entries()].map(([id, at]) => ({ d, id, at })));
    expect(calmAcks.length).toBe(calmSent);
    expect(calmSent).toBeGreaterThanOrEqual(calm.length);
    const sentAt = ({ d, id }: (typeof calmAcks)[number]) => d.reportSentAt.get(id) as number;
    const sentDuring = calmAcks.filter((ack) => sentAt(ack) >= started && sentAt(ack) < floodDoneAt);
    expect(sentDuring.length).toBeGreaterThanOrEqual(calm.length);
    // A report queued behind the flood would wait about as long as the flood lasts; one sent just before the flood's
    // last ack may still be acked just after it, so each is held to half the flood's duration, not to its end.
    for (const { d, id, at } of sentDuring)
      expect(at - (d.reportSentAt.get(id) as number)).toBeLessThan(floodMs / 2);
    const rtt = calmAcks.filter((ack) => sentAt(ack) >= started).map((ack) => ack.at - sentAt(ack));
    // Not queued behind the flood's writes either: with the group commit the other rooms' reports share the flood's
    // fsyncs, so their round trip is a few group commits, a small part of the flood's time however loaded the machine
    // (a bound relative to this run; the latency target itself is the bench's, bench/RESULTS.md).
    expect(percentile(rtt, 99)).toBeLessThan(floodMs / 4);

    // Stored, every one: burst single incidents, then one flood incident holding the rest.
    const incidents = (
      await hub.request<{ eventId: string; ref: string; kind: string }[]>({ cmd: 'incidents' })
    ).filter((i) => i.eventId.startsWith(`${flooder.device}:`));
    const singles = incidents.filter((i) => i.kind === 'report');
    const floods = incidents.filter((i) => i.kind === 'tamper');
    expect(singles).toHaveLength(DEFAULT_LIMITS.reports.burst);
    expect(floods).toHaveLength(1);
    const flood = (await hub.request<Incident>({
      cmd: 'incident',
      ref: floods[0]?.ref as string,
    })) as Incident;
    expect(flood).toMatchObject({ tamperReason: 'report-flood', urgency: 'urgent', room: flooder.room });
    expect(flood.flood?.reports).toBe(FLOOD - DEFAULT_LIMITS.reports.burst);
    expect(new Set(refs)).toEqual(new Set([...singles.map((i) => i.ref), flood.ref]));
    const stats = await hub.stats();
    expect(stats.ingest.reportsCollapsed).toBe(FLOOD - DEFAULT_LIMITS.reports.burst);

    // Notifications coalesced: one email per single report and one tamper alert for the whole flood.
    const fromFlooder = () => smtp.mails.filter((m) => m.raw.includes(`from ${flooder.room}`));
    await waitFor(
      () => fromFlooder().length >= DEFAULT_LIMITS.reports.burst + 1,
      'the flood room emails',
      60_000,
    );
    await waitFor(
      async () => (await hub.request<unknown[]>({ cmd: 'notify-jobs' })).length === 0,
      'notices sent',
      60_000,
    );
    expect(fromFlooder()).toHaveLength(DEFAULT_LIMITS.reports.burst + 1);
    expect(fromFlooder().filter((m) => /Tamper alert/.test(m.raw))).toHaveLength(1);

    writeArtifact(
      'report-flood.md',
      [
        '| measure | value |',
        '|---|---|',
        `| flood: reports from one device, all stored and acked | ${acked} of ${FLOOD} in ${(floodMs / 1000).toFixed(1)} s (${Math.round(FLOOD / (floodMs / 1000))}/s, each fsynced before its ack) |`,
        `| incidents from the flood | ${singles.length} single reports (the burst) + 1 tamper alert holding ${flood.flood?.reports} |`,
        `| emails for the flood room | ${fromFlooder().length} (${singles.length} reports + 1 tamper alert) |`,
        `| other rooms' reports sent during the flood, acked within half its duration | ${sentDuring.length} of ${sentDuring.length} |`,
        `| other rooms: report → ack at the device, p50 / p99 / max (ms) | ${percentile(rtt, 50).toFixed(1)} / ${percentile(rtt, 99).toFixed(1)} / ${Math.max(...rtt).toFixed(1)} (target for the whole pin → light path: p99 ≤ 50 ms) |`,
        `| hub RSS after (MB) | ${(stats.rssBytes / 1e6).toFixed(0)} |`,
      ].join('\n'),
    );
    await Promise.all(calm.map((d) => d.stop()));
  }, 300_000);
});
