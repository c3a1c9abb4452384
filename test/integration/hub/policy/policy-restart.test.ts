/**
 * The policy driver across hub restarts (real aedes with its LevelDB persistence, real MQTT.js devices): a restart
 * republishes only what changed since the last decision the broker still retains, a lost broker database gets
 * everything again, a device that resumes its session is not sent it all again while a clean one is, and whenever a
 * schedule goes out today's goes last, so the retained copy a fresh device finds is today's (P1–P4 offline).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { parseClock, zonedTime } from '../../../../hub/policy/calendar.js';
import type { Command } from '../../../../schemas/messages.js';
import { topics } from '../../../../schemas/topics.js';
import { connectClient, type HubFixture, startTestHub, waitFor } from '../../../support/hub-fixture.js';

const WED = '2026-09-02'; // a school day in the demo school
const THU = '2026-09-03';
const at = (hhmm: string) => zonedTime(WED, parseClock(hhmm), 'Europe/London');
const address = { site: 'demo-school', room: 'room-1', device: 'room-1-locker' };
const secret = 'correct-horse-battery-staple-7';

const open: { fixtures: HubFixture[]; clients: MqttClient[] } = { fixtures: [], clients: [] };
afterEach(async () => {
  for (const c of open.clients.splice(0)) c.end(true);
  for (const f of open.fixtures.splice(0)) await f.dispose();
});

async function hubAt(clock: { now: number }, dataDir?: string): Promise<HubFixture> {
  const fixture = await startTestHub({ now: () => clock.now, ...(dataDir ? { dataDir } : {}) });
  open.fixtures.push(fixture);
  return fixture;
}

/** The device as the firmware connects: persistent session, its inbox at QoS 1; collects the commands it gets. */
async function device(fixture: HubFixture, clean: boolean): Promise<{ client: MqttClient; got: Command[] }> {
  const got: Command[] = [];
  const client = await connectClient(fixture.hub.mqttPort, {
    clientId: address.device,
    username: address.device,
    password: secret,
    clean,
  });
  open.clients.push(client);
  client.on('message', (topic, payload) => {
    if (topic.includes('/set/')) got.push(JSON.parse(payload.toString()) as Command);
  });
  await client.subscribeAsync(topics.deviceInbox(address), { qos: 1 });
  return { client, got };
}

async function provision(fixture: HubFixture, now: number): Promise<void> {
  await fixture.hub.registry.provision({ id: address.device, address, secret, lockerMode: 'lesson', now });
}

const online = (client: MqttClient, ts: number) =>
  client.publishAsync(topics.availability(address), JSON.stringify({ v: 1, ts, status: 'online' }), {
    qos: 1,
    retain: true,
  });

describe('policy driver across restarts', () => {
  it('a restart with nothing changed republishes nothing; the next bell still commands the lockers', async () => {
    const clock = { now: at('08:35') };
    const first = await hubAt(clock);
    await provision(first, clock.now);
    await first.hub.policy.driver.reload();
    expect(first.hub.policy.driver.published).toBeGreaterThan(0);
    await first.stop();

    const second = await hubAt(clock, first.dataDir);
    await second.hub.policy.driver.idle();
    expect(second.hub.policy.driver.published).toBe(0);

    clock.now = at('08:40'); // registration: formal school time (P1, P5)
    await second.hub.policy.driver.tick();
    expect(second.hub.policy.driver.published).toBeGreaterThan(0);
    const { got } = await device(second, true);
    expect(await waitFor(() => got.find((c) => c.kind === 'lock'), 'retained lock')).toMatchObject({
      locked: true,
    });
  });

  it('a lost broker database (retained commands gone) gets every command again at start', async () => {
    const clock = { now: at('08:55') };
    const first = await hubAt(clock);
    await provision(first, clock.now);
    const before = first.hub.policy.driver.published;
    await first.hub.policy.driver.reload();
    const everything = first.hub.policy.driver.published - before;
    await first.stop();
    await rm(join(first.dataDir, 'broker'), { recursive: true, force: true });

    const second = await hubAt(clock, first.dataDir);
    await second.hub.policy.driver.idle();
    expect(second.hub.policy.driver.published).toBe(everything);
    const { got } = await device(second, true);
    await waitFor(
      () => got.find((c) => c.kind === 'schedule' && c.date === WED),
      "today's schedule retained",
    );
  });

  it('coming online: a resumed session is not re-sent everything, a clean one is', async () => {
    const clock = { now: at('08:55') };
    const hub = await hubAt(clock);
    await provision(hub, clock.now);
    const first = await device(hub, false);
    await online(first.client, clock.now);
    await waitFor(() => first.got.find((c) => c.kind === 'schedule' && c.date === WED), 'first commands');
    await hub.hub.policy.driver.idle();
    first.client.end(true);
    open.clients.length = 0;

    const before = hub.hub.policy.driver.published;
    const resumed = await device(hub, false);
    await online(resumed.client, clock.now);
    await new Promise((r) => setTimeout(r, 300));
    await hub.hub.policy.driver.idle();
    expect(hub.hub.policy.driver.published).toBe(before);
    resumed.client.end(true);
    open.clients.length = 0;

    const fresh = await device(hub, true);
    await online(fresh.client, clock.now);
    await waitFor(
      () => fresh.got.find((c) => c.kind === 'schedule' && c.date === THU),
      "tomorrow's schedule",
    );
    await hub.hub.policy.driver.idle();
    expect(hub.hub.policy.driver.published).toBe(before + 4);
  });

  it("P6: an exemption for tomorrow re-sends tomorrow's schedule and then today's, so today's stays retained", async () => {
    const clock = { now: at('08:55') };
    const hub = await hubAt(clock);
    await provision(hub, clock.now);
    await hub.hub.policy.driver.reload();
    const watcher = await device(hub, false);
    await waitFor(
      () => watcher.got.find((c) => c.kind === 'schedule' && c.date === WED),
      'retained schedule',
    );
    watcher.got.length = 0;

    await hub.hub.policy.exemptions.create(
      { room: address.room, period: 'p1', date: THU, reason: 'research lesson' },
      'head',
      clock.now,
      true,
    );
    await waitFor(() => watcher.got.filter((c) => c.kind === 'schedule').length >= 2, 'two schedules');
    await hub.hub.policy.driver.idle();
    const schedules = watcher.got.filter((c) => c.kind === 'schedule');
    expect(schedules.map((c) => c.kind === 'schedule' && c.date)).toEqual([THU, WED]);
    expect(watcher.got.filter((c) => c.kind !== 'schedule')).toEqual([]);

    const fresh = await device(hub, true);
    const retained = await waitFor(() => fresh.got.find((c) => c.kind === 'schedule'), 'retained schedule');
    expect(retained).toMatchObject({ date: WED });
  });
});
