/**
 * D3: backup → wipe → restore round trip on a real hub data directory (LevelDB, broker state, a private influxd with
 * points), through the CLI entry points. Also: the CLI refuses to touch a running hub's locked database; ext4's
 * lost+found and leftover dot-files stay out of the archive, and a restore leaves lost+found alone.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../../../cli/backup.js';
import { runUser } from '../../../../cli/user.js';
import { readBackup } from '../../../../hub/backup/backup.js';
import type { MetricPoint } from '../../../../hub/store/metrics-store.js';
import { type HubFixture, startTestHub } from '../../../support/hub-fixture.js';

const PASSWORD = 'tulip lantern orbit 42';

describe('backup and restore (D3)', () => {
  const work = mkdtempSync(join(tmpdir(), 'pa-backup-'));
  let fixture: HubFixture | undefined;

  afterAll(async () => {
    await fixture?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('D3, S1: round-trips incidents, accounts, audit and InfluxDB points; the CLI refuses a running hub', async () => {
    fixture = await startTestHub();
    const { hub, dataDir } = fixture;

    // Incidents with workflow steps, an account, audit entries and time-series points.
    const refs: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const { incident, ops } = await hub.incidents.prepare({
        kind: 'report',
        site: 'demo-school',
        room: 'room-1',
        device: 'room-1-locker',
        eventId: `room-1-locker:${i + 1}`,
        urgency: 'normal',
        reportedAt: Date.now() - i * 1000,
        receivedAt: Date.now() - i * 1000,
      });
      await hub.db.batch(ops, { sync: true });
      refs.push(incident.ref);
      if (i < 2) await hub.safeguarding.incidents.apply(incident.id, { type: 'acknowledge' }, 'user:coord');
    }
    await hub.users.add('coord', PASSWORD, ['coordinator'], Date.now());
    const base = Date.now() - 3_600_000;
    const points: MetricPoint[] = Array.from({ length: 50 }, (_, i) => ({
      measurement: 'locker_state',
      tags: {
        site: 'demo-school',
        room: `room-${(i % 3) + 1}`,
        device: `room-${(i % 3) + 1}-locker`,
        mode: 'lesson',
      },
      fields: { locked: i % 4 !== 0, door_open: false, phones: i % 30, key_on: false },
      ts: base + i * 60_000,
    }));
    await hub.store.writePoints(points);
    const figures = async () =>
      (
        await fixture?.hub.store.query(
          'SELECT count("phones"), sum("phones") FROM "locker_state" GROUP BY "room"',
        )
      )?.map((s) => [s.tags?.room, s.values[0]?.slice(1)]);
    const before = {
      incidents: await hub.incidents.list(),
      users: await hub.users.list(),
      audit: await hub.audit.list({ limit: 1000 }),
      figures: await figures(),
    };
    expect(before.figures).toHaveLength(3);

    // While the hub runs, its LevelDB is locked: a clear error, nothing changed.
    await expect(runUser(['list', '--data-dir', dataDir], () => {})).rejects.toMatchObject({
      code: 'E_HUB_RUNNING',
    });

    await fixture.stop();
    // A data directory that is a disk of its own has ext4's lost+found (its name is no backup entry's); a write cut
    // short between its temporary file and the rename leaves a dot-file (shared/durable-file.ts).
    mkdirSync(join(dataDir, 'lost+found'), { mode: 0o700 });
    writeFileSync(join(dataDir, '.first-run-password.txt.999.tmp'), 'a password for no account\n');
    const archive = join(work, 'hub-backup.tar.gz');
    const lines: string[] = [];
    await runBackup('backup', ['--data-dir', dataDir, '--out', archive], (l) => lines.push(l));
    expect(existsSync(archive)).toBe(true);
    expect(lines.join('\n')).toMatch(/InfluxDB: backed up[\s\S]*done:/);
    const staged = await readBackup(archive);
    try {
      expect(staged.manifest.dataDirEntries).toContain('hub-db');
      expect(staged.manifest.dataDirEntries).not.toContain('lost+found');
      expect(staged.manifest.dataDirEntries.filter((e) => e.startsWith('.'))).toEqual([]);
    } finally {
      staged.dispose();
    }

    // Disaster: the data directory's contents are gone; the disk's lost+found is left to the disk.
    for (const name of readdirSync(dataDir))
      if (name !== 'lost+found') rmSync(join(dataDir, name), { recursive: true, force: true });
    const restoredLines: string[] = [];
    await runBackup('restore', ['--data-dir', dataDir, '--from', archive], (l) => restoredLines.push(l));
    expect(restoredLines.at(-1)).toBe('restore: done');
    expect(readdirSync(dataDir)).toEqual(expect.arrayContaining(['hub-db', 'influxdb', 'lost+found']));

    // The CLI works on the stopped, restored hub.
    const listed: string[] = [];
    await runUser(['list', '--data-dir', dataDir], (l) => listed.push(l));
    expect(listed.some((l) => l.startsWith('coord '))).toBe(true);

    fixture = await startTestHub({ dataDir });
    const after = fixture.hub;
    expect(after.firstRunAdmin).toBeNull();
    expect(await after.incidents.list()).toEqual(before.incidents);
    expect(await after.users.list()).toEqual(before.users);
    expect(await after.audit.list({ limit: 1000 })).toEqual(before.audit);
    expect(await after.audit.verify()).toMatchObject({ ok: true });
    expect(await figures()).toEqual(before.figures);
  });
});
