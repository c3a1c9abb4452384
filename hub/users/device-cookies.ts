/**
 * Remembered browsers (OWASP "device cookies"): after a successful sign-in the browser gets a random token, and the
 * hub remembers, per account, that this token signed in. While an account is held back by failures from elsewhere,
 * a remembered browser still signs in, under its own small limit. Only a SHA-256 of the token is stored, so a copy
 * of the database cannot be turned into cookies. A token unused for `maxAgeMs` is forgotten.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { HubDb } from '../db/hub-db.js';

export const DEVICE_TOKEN = /^[A-Za-z0-9_-]{43}$/;

interface Remembered {
  username: string;
  createdAt: number;
  lastUsedAt: number;
}

const digest = (token: string) => createHash('sha256').update(token).digest('base64url');
const keyOf = (token: string, username: string) => `${digest(token)}:${username}`;

export class DeviceCookies {
  constructor(
    private readonly db: HubDb,
    private readonly maxAgeMs: number,
  ) {}

  /** The limit key for this browser and account when the browser signed in to it before; else null. */
  async trusted(token: string | undefined, username: string, now: number): Promise<string | null> {
    if (!token || !DEVICE_TOKEN.test(token)) return null;
    const key = keyOf(token, username);
    const found = await this.db.get<Remembered>('login-devices', key);
    if (!found) return null;
    if (now - found.lastUsedAt > this.maxAgeMs) {
      await this.db.del('login-devices', key);
      return null;
    }
    return key;
  }

  /** After a successful sign-in: the browser's token (kept, or a new one), now remembered for this account. */
  async remember(token: string | undefined, username: string, now: number): Promise<string> {
    const use = token && DEVICE_TOKEN.test(token) ? token : randomBytes(32).toString('base64url');
    const key = keyOf(use, username);
    const found = await this.db.get<Remembered>('login-devices', key);
    await this.db.put('login-devices', key, {
      username,
      createdAt: found?.createdAt ?? now,
      lastUsedAt: now,
    } satisfies Remembered);
    return use;
  }

  /** Drops records unused for maxAgeMs (called at start). */
  async prune(now: number): Promise<void> {
    const old: string[] = [];
    for await (const [key, value] of this.db.entries<Remembered>('login-devices'))
      if (now - value.lastUsedAt > this.maxAgeMs) old.push(key);
    if (old.length)
      await this.db.batch(
        old.map((key) => ({ type: 'del' as const, sublevel: 'login-devices' as const, key })),
      );
  }
}
