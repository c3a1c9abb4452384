/**
 * S4 on the device: a new device with only an enrolment token makes its own secret, keeps it in hub.passwordFile
 * (0600) and connects with `enrol:<token>:<secret>`; the hub holds it as pending until an admin approves it, and
 * refuses it meanwhile (the link keeps retrying with backoff). The first accepted connect means approved: from then
 * on the plain secret is used. `<dataDir>/enrolment.json` records where we are, so a restart resumes enrolling
 * rather than presenting a secret the hub has never seen. Once approved, the enrolment token file is deleted: a
 * copied SD card must not carry a token that may still have uses left.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DeviceConfig } from '../schemas/config.js';
import { writeDurably } from '../shared/durable-file.js';

export interface DeviceCredentials {
  /** The device's own secret: what it connects with once approved. */
  password: string;
  /** Present while enrolling. */
  enrolment?: { password: string; onApproved: () => Promise<void> };
}

type EnrolmentStatus = { status: 'enrolling' | 'approved' };

export class EnrolmentError extends Error {
  readonly code = 'E_ENROLMENT';
  constructor(message: string) {
    super(message);
    this.name = 'EnrolmentError';
  }
}

export async function deviceCredentials(
  config: Pick<DeviceConfig, 'dataDir' | 'hub'>,
): Promise<DeviceCredentials> {
  const statusFile = join(config.dataDir, 'enrolment.json');
  const tokenFile = config.hub.enrolTokenFile;
  let password = await readOptional(config.hub.passwordFile);
  const status = await readStatus(statusFile);
  if (password === undefined) {
    if (!tokenFile || (await readOptional(tokenFile)) === undefined) {
      throw new EnrolmentError(
        `${config.hub.passwordFile} does not exist${tokenFile ? ` and neither does ${tokenFile}` : ''}: ` +
          'provision the device (phones-away device add) or give it an enrolment token',
      );
    }
    // 32 random bytes as base64url: no colon, so it fits `enrol:<token>:<secret>` (see hub/devices/enrolment.ts).
    password = randomBytes(32).toString('base64url');
    await writeDurable(statusFile, JSON.stringify({ status: 'enrolling' } satisfies EnrolmentStatus));
    await writeDurable(config.hub.passwordFile, password, 0o600);
  } else if (status?.status !== 'enrolling') {
    // Approved earlier (a power cut between recording it and deleting the token, or an older version kept it).
    if (tokenFile) await removeToken(tokenFile);
    return { password };
  }
  const token = tokenFile ? await readOptional(tokenFile) : undefined;
  if (!token) throw new EnrolmentError(`enrolling, but the enrolment token file ${tokenFile ?? ''} is gone`);
  return {
    password,
    enrolment: {
      password: `enrol:${token}:${password}`,
      onApproved: async () => {
        await writeDurable(statusFile, JSON.stringify({ status: 'approved' } satisfies EnrolmentStatus));
        if (tokenFile) await removeToken(tokenFile);
      },
    },
  };
}

/** Deletes the enrolment token file and makes the deletion durable; already gone is fine. */
async function removeToken(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return text === '' ? undefined : text;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function readStatus(file: string): Promise<EnrolmentStatus | undefined> {
  const text = await readOptional(file);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as EnrolmentStatus;
  } catch {
    return undefined;
  }
}

/** A power cut leaves the old file or the new one, its name on the disk too (shared/durable-file.ts). */
async function writeDurable(file: string, text: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeDurably(file, text, mode);
}
