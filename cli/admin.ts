/**
 * Administration subcommands:
 *
 *   phones-away certs --dir <dir> --hub-host <name> [--device <id> ...] [--school-name <name>]
 *   phones-away device list    --config <hub.json>
 *   phones-away device add     --config <hub.json> <id> --room <room> [--locker-mode lesson|day-storage|open]
 *   phones-away device approve --config <hub.json> <id> --room <room> [--locker-mode ...]
 *   phones-away device revoke  --config <hub.json> <id>
 *   phones-away device rotate  --config <hub.json> <id>
 *   phones-away device token   --config <hub.json> [--max-uses <n>] [--ttl-minutes <n>]
 *
 * The device commands open the hub's own database, so they work only while the hub is stopped (LevelDB allows one
 * process); while it runs, the same actions are on the dashboard and the HTTP API (POST /api/devices/:id/approve …).
 * One writer means no second code path that could disagree with the hub. Changes are audited as user 'cli:<login>'.
 */
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { AuditLog } from '../hub/audit/audit-log.js';
import { loadConfigFile } from '../hub/config-file.js';
import { HubDb } from '../hub/db/hub-db.js';
import { makeCertificates } from '../hub/devices/certificates.js';
import { DeviceAdmin } from '../hub/devices/device-admin.js';
import { DeviceRegistry } from '../hub/devices/device-registry.js';
import { HubError } from '../hub/errors.js';
import { LOCKER_MODES, type LockerMode } from '../schemas/messages.js';
import { silentLogger } from '../shared/log.js';

import { DEVICE_ACTIONS, type ParsedValues } from './commands.js';

interface CertsValues {
  dir?: string;
  'hub-host'?: string;
  device?: string[];
  'school-name'?: string;
}

interface DeviceAdminValues {
  config?: string;
  room?: string;
  'locker-mode'?: string;
  'max-uses'?: string;
  'ttl-minutes'?: string;
}

/** Options as parsed and checked by `cli/commands.ts` (required ones are present). */
export async function runCerts(parsed: ParsedValues): Promise<void> {
  const values = parsed as CertsValues;
  if (!values.dir || !values['hub-host']) throw new Error('certs needs --dir <dir> --hub-host <name>');
  const files = await makeCertificates({
    dir: values.dir,
    hubHost: values['hub-host'],
    devices: values.device ?? [],
    ...(values['school-name'] ? { schoolName: values['school-name'] } : {}),
  });
  console.log(
    files.ca.created ? `New school CA: ${files.ca.cert}` : `Reused the school CA: ${files.ca.cert}`,
  );
  console.log(`Hub certificate: ${files.hub.cert} (key ${files.hub.key})`);
  for (const d of files.devices) console.log(`Device ${d.id}: ${d.cert} (key ${d.key})`);
  console.log(
    `\nIn hub.json: "mqtt": { ..., "tls": { "port": 8883, "cert": "${files.hub.cert}", "key": "${files.hub.key}", "ca": "${files.ca.cert}" } }` +
      `\nOn each device: "hub": { "url": "mqtts://${values['hub-host']}:8883", "ca": "ca.crt", ... }` +
      `\nKeep ${files.ca.key} offline if you can: whoever has it can make certificates your hub trusts.`,
  );
}

export async function runDeviceAdmin(
  action: string,
  id: string | undefined,
  parsed: ParsedValues,
): Promise<void> {
  const values = parsed as DeviceAdminValues;
  if (!values.config) throw new Error(`device ${action} needs --config <hub.json>`);
  const config = loadConfigFile(values.config, 'hub-config');
  const school = loadConfigFile(resolve(dirname(values.config), config.school), 'school-model');
  const db = await openStopped(join(config.dataDir, 'hub-db'));
  const audit = new AuditLog(db, Date.now, silentLogger);
  const admin = new DeviceAdmin({
    db,
    registry: new DeviceRegistry(db),
    site: school.site,
    rooms: new Set(school.rooms.map((r) => r.id)),
    now: Date.now,
    audit,
  });
  const who = `cli:${userInfo().username}`;
  const needId = () => {
    if (!id) throw new Error(`device ${action} needs a device id`);
    return id;
  };
  try {
    switch (action) {
      case 'list':
        for (const d of await admin.list()) console.log(`${d.id}\t${d.status}\t${d.room}\t${d.lockerMode}`);
        break;
      case 'add': {
        const { secret } = await admin.add(
          {
            id: needId(),
            room: required(values.room, '--room'),
            lockerMode: lockerMode(values['locker-mode']),
          },
          who,
        );
        console.log(
          `Device ${id} added. Its secret (shown once, put it in the device's passwordFile):\n${secret}`,
        );
        break;
      }
      case 'approve': {
        const mode = values['locker-mode'] ? { lockerMode: lockerMode(values['locker-mode']) } : {};
        const device = await admin.approve(needId(), { room: required(values.room, '--room'), ...mode }, who);
        console.log(`Device ${device.id} approved into ${device.room}.`);
        break;
      }
      case 'revoke':
        await admin.revoke(needId(), who);
        console.log(`Device ${id} revoked: the hub refuses its connections.`);
        break;
      case 'rotate': {
        const { secret } = await admin.rotate(needId(), who);
        console.log(`New secret for ${id} (shown once; the old one no longer works):\n${secret}`);
        break;
      }
      case 'token': {
        const { token, record } = await admin.issueToken({
          maxUses: Number(values['max-uses'] ?? 1),
          ttlMinutes: Number(values['ttl-minutes'] ?? 24 * 60),
          who,
        });
        console.log(
          `Enrolment token ${record.id} (shown once), valid until ${new Date(record.expiresAt).toISOString()} ` +
            `for ${record.maxUses} device(s):\n${token}\n` +
            'A new device connects with username = its id and password = enrol:<token>:<its own secret>, ' +
            'then waits as pending until an admin approves it.',
        );
        break;
      }
      default:
        throw new Error(`unknown device action '${action}': one of ${DEVICE_ACTIONS.join(', ')}`);
    }
  } catch (error) {
    if (error instanceof HubError) throw new Error(error.message);
    throw error;
  } finally {
    await audit.stop();
    await db.close();
  }
}

export async function openStopped(dir: string): Promise<HubDb> {
  try {
    return await HubDb.open(dir);
  } catch (error) {
    const code =
      (error as { code?: string; cause?: { code?: string } }).cause?.code ??
      (error as { code?: string }).code;
    if (code === 'LEVEL_LOCKED' || /lock/i.test(String((error as Error).message))) {
      throw new Error(
        'the hub is running (its database is locked). Stop it first, or use the dashboard / HTTP API: ' +
          'POST /api/devices/:id/approve|revoke|rotate, POST /api/enrolment-tokens',
      );
    }
    throw error;
  }
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new Error(`${flag} is required`);
  return value;
}

function lockerMode(value: string | undefined): LockerMode {
  const mode = value ?? 'lesson';
  if (!(LOCKER_MODES as readonly string[]).includes(mode))
    throw new Error(`--locker-mode must be one of ${LOCKER_MODES.join(', ')}`);
  return mode as LockerMode;
}
