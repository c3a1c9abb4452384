/**
 * Individual staff accounts (S1): scrypt-hashed passwords with a minimum strength, roles (S5), TOTP secrets (S3), no
 * shared or default logins. Every change is written with its audit entry in one atomic batch (S6); the audit entry
 * never holds a password hash or TOTP secret.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import { generateSecret, hashSecret, verifySecret } from '../devices/password-hash.js';
import { HubError } from '../errors.js';
import type { AuditRecord } from '../event-bus.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { passwordProblems } from './password-policy.js';
import { STAFF_ROLES, type StaffRole } from './roles.js';

/** The first-run administrator and the password generated for it (shown once, never stored in clear). */
export interface FirstRunAccount {
  username: string;
  password: string;
}

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
  /** Set by a reset (or an account made for someone else with a report-reading role): a new password and second
   * factor are chosen at the next sign-in, so whoever set the old ones cannot use them. */
  mustChangePassword?: boolean;
  /** Where account notices for this person go (a change awaiting approval, a reset). Optional. */
  email?: string;
  /**
   * Who last reset this account's password or second factor (`user:<name>`), and when. Whoever reset it may have
   * signed in as the person since; an approver of a report-reading role for the account is told (account-changes.ts).
   */
  resetBy?: string;
  resetAt?: number;
}

/**
 * The record as stored: the TOTP secret sealed (secret-box.ts) under a key outside the database. `totpSecret` in a
 * stored record is plaintext from before sealing, or from a store made without a box (unit tests); sealPlaintext()
 * migrates it. Every write goes through a stored record, never an opened one, so no opened secret is written back.
 */
export type StoredUser = Omit<UserRecord, 'totpSecret'> & { totpSealed?: string; totpSecret?: string };

export type PublicUser = Pick<UserRecord, 'username' | 'roles' | 'disabled'>;
export interface UserView extends PublicUser {
  createdAt: number;
  totpEnrolled: boolean;
  /** A new password and second factor are due at the next sign-in. */
  mustChangePassword: boolean;
  email?: string;
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

export function view(record: StoredUser): UserView {
  return {
    username: record.username,
    roles: record.roles,
    disabled: record.disabled,
    createdAt: record.createdAt,
    totpEnrolled: record.totpSecret !== undefined || record.totpSealed !== undefined,
    mustChangePassword: record.mustChangePassword === true,
    ...(record.email ? { email: record.email } : {}),
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

  /** The op and audit record that replace one account's record; never a hash or secret in the audit record. */
  change(
    actor: string,
    action: string,
    before: StoredUser | undefined,
    after: StoredUser,
  ): { ops: BatchOp[]; records: AuditRecord[] } {
    return {
      ops: [{ type: 'put', sublevel: 'users', key: after.username, value: after }],
      records: [
        {
          actor,
          action,
          target: `user:${after.username}`,
          before: before && view(before),
          after: view(after),
        },
      ],
    };
  }

  /** Commits changes and their audit entries (and any further ops) in one atomic, fsynced batch. */
  async commitAll(records: AuditRecord[], ops: BatchOp[]): Promise<void> {
    if (this.audit) await this.audit.commit(records, ops);
    else await this.db.batch(ops, { sync: true });
  }

  private async commit(actor: string, action: string, before: StoredUser | undefined, after: StoredUser) {
    const { ops, records } = this.change(actor, action, before, after);
    await this.commitAll(records, ops);
  }

  /** Builds a new account's record, checking name, password and roles; throws UserError listing the problem. */
  async newRecord(
    username: string,
    password: string,
    roles: readonly string[],
    now: number,
    extra: Pick<UserRecord, 'mustChangePassword' | 'email'> = {},
  ): Promise<StoredUser> {
    if (!USERNAME.test(username))
      throw new UserError('E_USERNAME', 'username: 2–32 of a-z, 0-9, . _ -', [
        'username: 2–32 of a-z, 0-9, . _ -',
      ]);
    const problems = passwordProblems(username, password);
    if (problems.length > 0) throw new UserError('E_WEAK_PASSWORD', problems.join('; '), problems);
    const checked = checkRoles(roles);
    if (await this.stored(username)) throw new UserError('E_USER_EXISTS', `user '${username}' exists`);
    return {
      username,
      roles: checked,
      passwordHash: await hashSecret(password),
      disabled: false,
      createdAt: now,
      passwordChangedAt: now,
      ...extra,
    };
  }

  /** Checks a new password against the policy and hashes it; throws UserError listing the problems. */
  async hashNewPassword(username: string, password: string): Promise<string> {
    const problems = passwordProblems(username, password);
    if (problems.length > 0) throw new UserError('E_WEAK_PASSWORD', problems.join('; '), problems);
    return hashSecret(password);
  }

  /** The record with its TOTP secret opened, for sign-in. Never written back: writes use stored(). */
  async get(username: string): Promise<UserRecord | undefined> {
    const stored = await this.stored(username);
    if (!stored) return undefined;
    const { totpSealed, ...rest } = stored;
    if (totpSealed === undefined) return rest;
    if (!this.box) throw new UserError('E_SECRETS_KEY', 'this user store cannot open sealed TOTP secrets');
    return { ...rest, totpSecret: this.box.open(totpSealed, totpContext(username)) };
  }

  /** The record as stored (secret sealed), for changes that write it back. */
  stored(username: string): Promise<StoredUser | undefined> {
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
    await this.commitAll([entry], ops);
    return plain.length;
  }

  async must(username: string): Promise<StoredUser> {
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
    const record = await this.newRecord(username, password, roles, now);
    await this.commit(actor, 'user.add', undefined, record);
    return { username, roles: record.roles, disabled: false };
  }

  async list(): Promise<UserView[]> {
    return (await this.db.values<StoredUser>('users')).map(view);
  }

  async count(): Promise<number> {
    return (await this.db.values('users')).length;
  }

  /**
   * First run: one administrator account with a generated password the operator is shown once. Administrator only
   * (S5): it reads no report. The head's account is added next, and the head chooses their own password and second
   * factor at first sign-in.
   *
   * `deliver` hands the password to the operator before the account is stored: a power cut between the two then
   * leaves a password for no account, and the next start makes a new one; the other order could leave an account
   * whose only password was lost, and nobody able to sign in ever again (no first run comes after an account exists).
   */
  async ensureFirstRunAdmin(
    now: number,
    deliver: (account: FirstRunAccount) => void | Promise<void> = () => {},
  ): Promise<FirstRunAccount | null> {
    if ((await this.count()) > 0) return null;
    const account = { username: 'admin', password: generateSecret(18) };
    await deliver(account);
    await this.add(account.username, account.password, ['admin'], now, 'system:first-run');
    return account;
  }

  async verify(username: string, password: string): Promise<PublicUser | null> {
    const record = await this.stored(username);
    // Hash even for unknown users so timing does not reveal which usernames exist.
    const ok = await verifySecret(password, record?.passwordHash ?? DUMMY_HASH);
    if (!record || !ok || record.disabled) return null;
    return { username: record.username, roles: record.roles, disabled: record.disabled };
  }

  /**
   * Sets a password. Set by anyone but the user (an admin's reset, the CLI), it is a temporary one: the user must
   * choose their own at next sign-in. Set by the user, it clears that demand.
   */
  async setPassword(username: string, password: string, now: number, actor: string): Promise<void> {
    const record = await this.must(username);
    const problems = passwordProblems(username, password);
    if (problems.length > 0) throw new UserError('E_WEAK_PASSWORD', problems.join('; '), problems);
    const { mustChangePassword: _was, ...rest } = record;
    const next: StoredUser = {
      ...rest,
      passwordHash: await hashSecret(password),
      passwordChangedAt: now,
      ...(actor === `user:${username}` ? {} : { mustChangePassword: true }),
    };
    await this.commit(actor, 'user.password', record, next);
  }

  async setRoles(username: string, roles: readonly string[], actor: string): Promise<UserView> {
    const record = await this.must(username);
    const next = { ...record, roles: checkRoles(roles) };
    if (record.roles.includes('admin') && !next.roles.includes('admin')) await this.keepAnAdmin(username);
    await this.commit(actor, 'user.roles', record, next);
    return view(next);
  }

  async setDisabled(username: string, disabled: boolean, actor: string): Promise<UserView> {
    const record = await this.must(username);
    if (disabled && record.roles.includes('admin')) await this.keepAnAdmin(username);
    const next = { ...record, disabled };
    await this.commit(actor, disabled ? 'user.disable' : 'user.enable', record, next);
    return view(next);
  }

  /**
   * Clears the TOTP secret: the user enrols again at next sign-in (lost phone), and chooses a new password there too,
   * since whoever asked for the reset may have learnt the old one.
   */
  async resetTotp(username: string, actor: string): Promise<UserView> {
    const record = await this.must(username);
    const { totpSecret: _secret, totpSealed: _sealed, totpLastStep: _step, ...rest } = record;
    const next: StoredUser = { ...rest, mustChangePassword: true };
    await this.commit(actor, 'user.reset-totp', record, next);
    return view(next);
  }

  /** Stores the secret confirmed by a first valid code, and that code's step. */
  async enrolTotp(username: string, secret: string, step: number): Promise<void> {
    const { totpSecret: _plain, ...record } = await this.must(username);
    const stored = this.box
      ? { totpSealed: this.box.seal(secret, totpContext(username)) }
      : { totpSecret: secret };
    await this.commit(`user:${username}`, 'user.enrol-totp', record, {
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

  /** Whether any account, enabled or not, holds one of these roles. */
  async anyWithRole(roles: readonly StaffRole[]): Promise<boolean> {
    return (await this.db.values<StoredUser>('users')).some((u) => u.roles.some((r) => roles.includes(r)));
  }

  /** Refuses to remove the last enabled admin: the school would be locked out of its own accounts. */
  async keepAnAdmin(except: string): Promise<void> {
    const others = (await this.db.values<StoredUser>('users')).filter(
      (u) => u.username !== except && !u.disabled && u.roles.includes('admin'),
    );
    if (others.length === 0)
      throw new UserError('E_LAST_ADMIN', 'cannot remove the last enabled admin; add another admin first');
  }
}
