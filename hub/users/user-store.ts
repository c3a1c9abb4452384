/**
 * Individual staff accounts (S1): scrypt-hashed passwords with a minimum strength, roles (S5), TOTP secrets (S3), no
 * shared or default logins. Every change is written with its audit entry in one atomic batch (S6); the audit entry
 * never holds a password hash or TOTP secret.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import { generateSecret, hashSecret, verifySecret } from '../devices/password-hash.js';
import { HubError } from '../errors.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { passwordProblems } from './password-policy.js';
import { STAFF_ROLES, type StaffRole } from './roles.js';

export interface UserRecord {
  username: string;
  roles: StaffRole[];
  passwordHash: string;
  disabled: boolean;
  createdAt: number;
  /** Base32 TOTP secret once enrolled (S3). */
  totpSecret?: string;
  /** The last TOTP step accepted: that code and earlier ones are refused (no replay). */
  totpLastStep?: number;
  passwordChangedAt?: number;
}

/**
 * The record as stored: the TOTP secret sealed (secret-box.ts) under a key outside the database. `totpSecret` in a
 * stored record is plaintext from before sealing, or from a store made without a box (unit tests); sealPlaintext()
 * migrates it.
 */
type StoredUser = Omit<UserRecord, 'totpSecret'> & { totpSealed?: string; totpSecret?: string };

export type PublicUser = Pick<UserRecord, 'username' | 'roles' | 'disabled'>;
export interface UserView extends PublicUser {
  createdAt: number;
  totpEnrolled: boolean;
}

const USERNAME = /^[a-z][a-z0-9._-]{1,31}$/;
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA';

export class UserError extends HubError {
  constructor(
    code: string,
    message: string,
    readonly problems: string[] = [],
  ) {
    super(code, message);
  }
}

function view(record: StoredUser): UserView {
  return {
    username: record.username,
    roles: record.roles,
    disabled: record.disabled,
    createdAt: record.createdAt,
    totpEnrolled: record.totpSecret !== undefined || record.totpSealed !== undefined,
  };
}

const totpContext = (username: string) => `totp:${username}`;

function checkRoles(roles: readonly string[]): StaffRole[] {
  const bad = roles.filter((r) => !(STAFF_ROLES as readonly string[]).includes(r));
  if (bad.length > 0 || roles.length === 0)
    throw new UserError('E_ROLES', `roles: one or more of ${STAFF_ROLES.join(', ')}`, [
      `roles: one or more of ${STAFF_ROLES.join(', ')}`,
    ]);
  return [...new Set(roles)] as StaffRole[];
}

export class UserStore {
  constructor(
    private readonly db: HubDb,
    private readonly audit?: AuditLog,
    /** Seals TOTP secrets; the hub always passes one. Without it (CLI, unit tests) secrets are never opened. */
    private readonly box?: SecretBox,
  ) {}

  private async commit(actor: string, action: string, username: string, before: unknown, after: StoredUser) {
    const ops: BatchOp[] = [{ type: 'put', sublevel: 'users', key: username, value: after }];
    const afterView = view(after);
    if (this.audit)
      await this.audit.commit([{ actor, action, target: `user:${username}`, before, after: afterView }], ops);
    else await this.db.batch(ops, { sync: true });
  }

  /** The record with its TOTP secret opened, for sign-in. */
  async get(username: string): Promise<UserRecord | undefined> {
    const stored = await this.stored(username);
    if (!stored) return undefined;
    const { totpSealed, ...rest } = stored;
    if (totpSealed === undefined) return rest;
    if (!this.box) throw new UserError('E_SECRETS_KEY', 'this user store cannot open sealed TOTP secrets');
    return { ...rest, totpSecret: this.box.open(totpSealed, totpContext(username)) };
  }

  private stored(username: string): Promise<StoredUser | undefined> {
    return this.db.get<StoredUser>('users', username);
  }

  /** Whether any account holds a sealed TOTP secret (the key file must then exist). */
  async anySealed(): Promise<boolean> {
    return (await this.db.values<StoredUser>('users')).some((u) => u.totpSealed !== undefined);
  }

  /**
   * Seals every TOTP secret still stored in clear (written before sealing existed), in one audited batch. Returns how
   * many; the caller compacts the database so the old plaintext leaves LevelDB's files too.
   */
  async sealPlaintext(): Promise<number> {
    const box = this.box;
    if (!box) return 0;
    const plain = (await this.db.values<StoredUser>('users')).filter((u) => u.totpSecret !== undefined);
    if (plain.length === 0) return 0;
    const ops: BatchOp[] = plain.map(({ totpSecret, ...rest }) => ({
      type: 'put',
      sublevel: 'users',
      key: rest.username,
      value: { ...rest, totpSealed: box.seal(totpSecret as string, totpContext(rest.username)) },
    }));
    const entry = {
      actor: 'system:secrets',
      action: 'user.seal-totp',
      target: 'users',
      after: { sealed: plain.map((u) => u.username) },
    };
    if (this.audit) await this.audit.commit([entry], ops);
    else await this.db.batch(ops, { sync: true });
    return plain.length;
  }

  private async must(username: string): Promise<StoredUser> {
    const record = await this.stored(username);
    if (!record) throw new UserError('E_NOT_FOUND', `no user '${username}'`);
    return record;
  }

  async add(
    username: string,
    password: string,
    roles: StaffRole[],
    now: number,
    actor = 'system',
  ): Promise<PublicUser> {
    if (!USERNAME.test(username))
      throw new UserError('E_USERNAME', 'username: 2–32 of a-z, 0-9, . _ -', [
        'username: 2–32 of a-z, 0-9, . _ -',
      ]);
    const problems = passwordProblems(username, password);
    if (problems.length > 0) throw new UserError('E_WEAK_PASSWORD', problems.join('; '), problems);
    const checked = checkRoles(roles);
    if (await this.stored(username)) throw new UserError('E_USER_EXISTS', `user '${username}' exists`);
    const record: UserRecord = {
      username,
      roles: checked,
      passwordHash: await hashSecret(password),
      disabled: false,
      createdAt: now,
      passwordChangedAt: now,
    };
    await this.commit(actor, 'user.add', username, undefined, record);
    return { username, roles: checked, disabled: false };
  }

  async list(): Promise<UserView[]> {
    return (await this.db.values<StoredUser>('users')).map(view);
  }

  async count(): Promise<number> {
    return (await this.db.values('users')).length;
  }

  /** First run: one account holding every role, with a generated password the operator is shown once. */
  async ensureFirstRunAdmin(now: number): Promise<{ username: string; password: string } | null> {
    if ((await this.count()) > 0) return null;
    const password = generateSecret(18);
    await this.add('admin', password, ['admin', 'head'], now, 'system:first-run');
    return { username: 'admin', password };
  }

  async verify(username: string, password: string): Promise<PublicUser | null> {
    const record = await this.stored(username);
    // Hash even for unknown users so timing does not reveal which usernames exist.
    const ok = await verifySecret(password, record?.passwordHash ?? DUMMY_HASH);
    if (!record || !ok || record.disabled) return null;
    return { username: record.username, roles: record.roles, disabled: record.disabled };
  }

  async setPassword(username: string, password: string, now: number, actor: string): Promise<void> {
    const record = await this.must(username);
    const problems = passwordProblems(username, password);
    if (problems.length > 0) throw new UserError('E_WEAK_PASSWORD', problems.join('; '), problems);
    const next = { ...record, passwordHash: await hashSecret(password), passwordChangedAt: now };
    await this.commit(actor, 'user.password', username, view(record), next);
  }

  async setRoles(username: string, roles: readonly string[], actor: string): Promise<UserView> {
    const record = await this.must(username);
    const next = { ...record, roles: checkRoles(roles) };
    if (record.roles.includes('admin') && !next.roles.includes('admin')) await this.keepAnAdmin(username);
    await this.commit(actor, 'user.roles', username, view(record), next);
    return view(next);
  }

  async setDisabled(username: string, disabled: boolean, actor: string): Promise<UserView> {
    const record = await this.must(username);
    if (disabled && record.roles.includes('admin')) await this.keepAnAdmin(username);
    const next = { ...record, disabled };
    await this.commit(actor, disabled ? 'user.disable' : 'user.enable', username, view(record), next);
    return view(next);
  }

  /** Clears the TOTP secret: the user enrols again at next sign-in (lost phone). */
  async resetTotp(username: string, actor: string): Promise<UserView> {
    const record = await this.must(username);
    const { totpSecret: _secret, totpSealed: _sealed, totpLastStep: _step, ...rest } = record;
    await this.commit(actor, 'user.reset-totp', username, view(record), rest);
    return view(rest);
  }

  /** Stores the secret confirmed by a first valid code, and that code's step. */
  async enrolTotp(username: string, secret: string, step: number): Promise<void> {
    const { totpSecret: _plain, ...record } = await this.must(username);
    const stored = this.box
      ? { totpSealed: this.box.seal(secret, totpContext(username)) }
      : { totpSecret: secret };
    await this.commit(`user:${username}`, 'user.enrol-totp', username, view(record), {
      ...record,
      ...stored,
      totpLastStep: step,
    });
  }

  /** Records the step of an accepted code so it cannot be used again; not audited (a sign-in, not a change). */
  async useTotpStep(username: string, step: number): Promise<void> {
    const record = await this.must(username);
    await this.db.put('users', username, { ...record, totpLastStep: step });
  }

  /** Refuses to remove the last enabled admin: the school would be locked out of its own accounts. */
  private async keepAnAdmin(except: string): Promise<void> {
    const others = (await this.db.values<StoredUser>('users')).filter(
      (u) => u.username !== except && !u.disabled && u.roles.includes('admin'),
    );
    if (others.length === 0)
      throw new UserError('E_LAST_ADMIN', 'cannot remove the last enabled admin; add another admin first');
  }
}
