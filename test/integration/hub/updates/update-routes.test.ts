/**
 * The fleet-updates API on a real hub: who may upload and roll out (admins), that uploads are verified against the
 * configured keys, the roll-out's order (one room, a percentage, everyone) and its retained offers, and that only an
 * approved device with its own secret may download a release.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from '../../../../schemas/messages.js';
import { topics } from '../../../../schemas/topics.js';
import {
  buildBundle,
  generateReleaseKeys,
  hostTarget,
  signBundle,
} from '../../../../shared/release-bundle.js';
import { type HubFixture, startTestHub } from '../../../support/hub-fixture.js';
import { data, StaffClient } from '../../../support/staff-client.js';

const PASSWORD = 'correct horse battery staple 42';
const SITE = 'demo-school';
const devices = [
  { site: SITE, room: 'room-1', device: 'r1-a' },
  { site: SITE, room: 'room-1', device: 'r1-b' },
  { site: SITE, room: 'room-2', device: 'r2-a' },
  { site: SITE, room: 'room-2', device: 'r2-b' },
];
const SECRET = 'device-secret-0123456789abcdef';

const bundle = (version: string, key: string) =>
  signBundle(
    buildBundle({ version, target: hostTarget(), entry: 'dist/firmware/boot.js' }, [
      { path: 'dist/firmware/boot.js', mode: 0o644, data: Buffer.from(`// ${version}\n`) },
    ]),
    key,
  );

describe('fleet updates API (ETSI 5.3, S5, S6)', () => {
  let fixture: HubFixture;
  let dir: string;
  let admin: StaffClient;
  let office: StaffClient;
  const school = generateReleaseKeys();
  const stranger = generateReleaseKeys();
  let uploaded: Buffer = Buffer.alloc(0);

  const upload = (client: StaffClient, bytes: Buffer) =>
    fetch(`${fixture.hub.httpUrl}/api/updates/releases`, {
      method: 'POST',
      headers: {
        cookie: client.cookie,
        'x-csrf-token': client.csrf,
        'content-type': 'application/octet-stream',
      },
      body: bytes,
    });
  const download = (version: string, authorization?: string) =>
    fetch(`${fixture.hub.httpUrl}/api/device-updates/${version}`, {
      headers: authorization ? { authorization } : {},
    });
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phones-away-updates-'));
    writeFileSync(join(dir, 'release.pub'), school.publicKeyPem);
    fixture = await startTestHub({ config: { updates: { publicKeys: [join(dir, 'release.pub')] } } });
    const { hub } = fixture;
    for (const address of devices)
      await hub.registry.provision({
        id: address.device,
        address,
        secret: SECRET,
        lockerMode: 'lesson',
        now: Date.now(),
      });
    await hub.users.add('ada', PASSWORD, ['admin'], Date.now());
    await hub.users.add('olly', PASSWORD, ['office'], Date.now());
    admin = new StaffClient(hub.httpUrl, 'ada', PASSWORD);
    office = new StaffClient(hub.httpUrl, 'olly', PASSWORD);
    for (const user of [admin, office]) expect((await user.signIn()).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await fixture?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an admin uploads a bundle signed with a configured key; a stranger-signed one is refused and counted', async () => {
    const refused = await upload(admin, bundle('2.0.0', stranger.privateKeyPem));
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('E_RELEASE_REFUSED');
    expect(fixture.hub.rejects.snapshot()['release: refused bundle']).toBe(1);
    uploaded = bundle('2.0.0', school.privateKeyPem);
    const accepted = await upload(admin, uploaded);
    expect(accepted.status).toBe(200);
    expect(((await accepted.json()) as { data: { version: string } }).data.version).toBe('2.0.0');
  });

  it('S5: office staff may see the releases but not upload or roll out', async () => {
    expect((await upload(office, bundle('2.0.1', school.privateKeyPem))).status).toBe(403);
    expect((await office.post('/api/updates/rollout', { version: '2.0.0', downgrade: false })).status).toBe(
      403,
    );
    const view = data(await office.get<{ releases: { version: string }[] }>('/api/updates'));
    expect(view.releases.map((r) => r.version)).toEqual(['2.0.0']);
  });

  it('a roll-out widens one room, then a percentage, then everyone, each step audited, offers retained', async () => {
    expect((await admin.post('/api/updates/rollout/widen', { kind: 'room', room: 'room-1' })).status).toBe(
      409,
    );
    expect((await admin.post('/api/updates/rollout', { version: '9.9.9', downgrade: false })).status).toBe(
      404,
    );
    const begun = data(
      await admin.post<{ id: string }>('/api/updates/rollout', { version: '2.0.0', downgrade: false }),
    );
    const first = await admin.post('/api/updates/rollout/widen', { kind: 'percent', percent: 50 });
    expect(first.status).toBe(409);
    expect(first.text).toContain('start with one room');
    expect((await admin.post('/api/updates/rollout/widen', { kind: 'room', room: 'room-9' })).status).toBe(
      409,
    );
    expect((await admin.post('/api/updates/rollout/widen', { kind: 'room', room: 'room-1' })).status).toBe(
      200,
    );
    const offered = async () => {
      const retained = await fixture.hub.broker.retained(topics.siteCommands(SITE));
      return retained
        .filter((p) => p.topic.endsWith('/set/update') && p.payload.length > 0)
        .map((p) => ({ topic: p.topic, offer: JSON.parse(p.payload.toString()) as Command }));
    };
    expect((await offered()).map((o) => o.topic).sort()).toEqual(
      devices.filter((d) => d.room === 'room-1').map((d) => topics.set(d, 'update')),
    );
    expect((await offered())[0]?.offer).toMatchObject({
      kind: 'update',
      id: begun.id,
      version: '2.0.0',
      downgrade: false,
    });
    expect((await admin.post('/api/updates/rollout/widen', { kind: 'percent', percent: 75 })).status).toBe(
      200,
    );
    expect(await offered()).toHaveLength(3);
    expect((await admin.post('/api/updates/rollout/widen', { kind: 'percent', percent: 50 })).status).toBe(
      409,
    );
    expect((await admin.post('/api/updates/rollout/widen', { kind: 'everyone' })).status).toBe(200);
    expect(await offered()).toHaveLength(4);
    const audit = await fixture.hub.audit.list({ limit: 10 });
    expect(audit.filter((e) => e.action === 'update.widen').map((e) => e.actor)).toEqual([
      'ada',
      'ada',
      'ada',
    ]);
    expect(audit.find((e) => e.action === 'update.begin')).toMatchObject({ actor: 'ada', target: '2.0.0' });
    // Stopping withdraws the offer from every device that had not started.
    expect((await admin.post('/api/updates/rollout/stop')).status).toBe(200);
    expect(await offered()).toHaveLength(0);
  });

  it('S4: only an approved device with its own secret downloads a release, byte for byte', async () => {
    expect((await download('2.0.0')).status).toBe(401);
    expect((await download('2.0.0', basic('r1-a', 'wrong-secret'))).status).toBe(401);
    const staff = await fetch(`${fixture.hub.httpUrl}/api/device-updates/2.0.0`, {
      headers: { cookie: admin.cookie },
    });
    expect(staff.status).toBe(401);
    const ok = await download('2.0.0', basic('r1-a', SECRET));
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).equals(uploaded)).toBe(true);
    expect((await download('9.9.9', basic('r1-a', SECRET))).status).toBe(404);
  });
});
