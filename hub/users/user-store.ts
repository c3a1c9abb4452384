/** Individual staff accounts (S1): scrypt-hashed passwords, roles, no shared or default logins. */
import type { HubDb } from '../db/hub-db.js';
import { generateSecret, hashSecret, verifySecret } from '../devices/password-hash.js';
import { HubError } from '../errors.js';
import type { StaffRole } from './roles.js';

export interface UserRecord {
  username: string;
  roles: StaffRole[];
  passwordHash: string;
  disabled: boolean;
  createdAt: number;
}

export type PublicUser = Pick<UserRecord, 'username' | 'roles' | 'disabled'>;

const USERNAME = /^[a-z][a-z0-9._-]{1,31}$/;

export class UserStore {
  constructor(private readonly db: HubDb) {}

  async add(username: string, password: string, roles: StaffRole[], now: number): Promise<PublicUser> {
    if (!USERNAME.test(username)) throw new HubError('E_USERNAME', 'username: 2–32 of a-z, 0-9, . _ -');
    if (password.length < 12) throw new HubError('E_WEAK_PASSWORD', 'password: at least 12 characters');
    if (await this.db.get('users', username))
      throw new HubError('E_USER_EXISTS', `user '${username}' exists`);
    const record: UserRecord = {
      username,
      roles,
      passwordHash: await hashSecret(password),
      disabled: false,
      createdAt: now,
    };
    await this.db.put('users', username, record);
    return { username, roles, disabled: false };
  }

  async count(): Promise<number> {
    return (await this.db.values('users')).length;
  }

  /** First run: one account holding every role, with a generated password the operator is shown once. */
  async ensureFirstRunAdmin(now: number): Promise<{ username: string; password: string } | null> {
    if ((await this.count()) > 0) return null;
    const password = generateSecret(18);
    await this.add('admin', password, ['admin', 'head'], now);
    return { username: 'admin', password };
  }

  async verify(username: string, password: string): Promise<PublicUser | null> {
    const record = await this.db.get<UserRecord>('users', username);
    // Hash even for unknown users so timing does not reveal which usernames exist.
    const ok = await verifySecret(
      password,
      record?.passwordHash ?? 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA',
    );
    if (!record || !ok || record.disabled) return null;
    return { username: record.username, roles: record.roles, disabled: record.disabled };
  }
}
