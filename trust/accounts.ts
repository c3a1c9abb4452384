/**
 * The trust's own accounts, in the trust server's own LevelDB (never a hub's: a hub accepts no trust account).
 * Passwords are scrypt-hashed and checked against the hub's password policy; every role signs in with a TOTP second
 * factor (every trust page shows school figures), whose secret is sealed under a key file outside the database, as
 * on a hub. Pure rules (hashing, password policy, TOTP) are the hub's modules; this file only stores.
 */
import type { HubDb } from '../hub/db/hub-db.js';
import { generateSecret, hashSecret, verifySecret } from '../hub/devices/password-hash.js';
import { HubError } from '../hub/errors.js';
import type { SecretBox } from '../hub/secrets/secret-box.js';
import { passwordProblems } from '../hub/users/password-policy.js';
import type { FirstRunAccount } from '../hub/users/user-store.js';
import { isTrustRole, type TrustRole } from './roles.js';

export class TrustAccountError extends HubError {}

export interface TrustAccount {
  username: string;
  roles: TrustRole[];
  passwordHash: string;
  disabled: boolean;
  createdAt: number;
  totpSealed?: string;
  /** The last TOTP step accepted: that code and earlier ones are refused (no replay). */
  totpLastStep?: number;
  /** Set on an account the leader made: its holder chooses their own password at the first sign-in. */
  mustChangePassword?: boolean;
}

export type AccountView = Pick<TrustAccount, 'username' | 'roles' | 'disabled'> & { totpEnrolled: boolean };

const USERNAME = /^[a-z][a-z0-9._-]{1,31}$/;
// Verified for unknown usernames too, so the time taken does not tell which usernames exist.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA';
const context = (username: string) => `trust-totp:${username}`;

export class TrustAccounts {
  constructor(
    private readonly db: HubDb,
    private readonly box: SecretBox,
  ) {}

  private get(username: string): Promise<TrustAccount | undefined> {
    return this.db.get<TrustAccount>('users', username);
  }

  private async must(username: string): Promise<TrustAccount> {
    const account = await this.get(username);
    if (!account) throw new TrustAccountError('E_NOT_FOUND', `no account '${username}'`);
    return account;
  }

  async add(
    username: string,
    password: string,
    roles: readonly string[],
    now: number,
    options: { mustChangePassword?: boolean } = {},
  ): Promise<AccountView> {
    if (!USERNAME.test(username))
      throw new TrustAccountError('E_USERNAME', 'username: 2–32 of a-z, 0-9, . _ -');
    const problems = passwordProblems(username, password);
    if (problems.length > 0) throw new TrustAccountError('E_WEAK_PASSWORD', problems.join('; '));
    const checked = [...new Set(roles)];
    if (checked.length === 0 || !checked.every(isTrustRole))
      throw new TrustAccountError('E_ROLES', 'roles: one or more of trust-leader, trustee, trust-it');
    if (await this.get(username))
      throw new TrustAccountError('E_USER_EXISTS', `account '${username}' exists`);
    const account: TrustAccount = {
      username,
      roles: checked as TrustRole[],
      passwordHash: await hashSecret(password),
      disabled: false,
      createdAt: now,
      ...(options.mustChangePassword ? { mustChangePassword: true } : {}),
    };
    await this.db.batch([{ type: 'put', sublevel: 'users', key: username, value: account }], { sync: true });
    return view(account);
  }

  async count(): Promise<number> {
    return (await this.db.values('users')).length;
  }

  async list(): Promise<AccountView[]> {
    return (await this.db.values<TrustAccount>('users')).map(view);
  }

  /**
   * First start: one trust-leader account with a generated password, shown to the operator once. The leader adds
   * everyone else's account from the Accounts page. `deliver` hands the password over before the account is stored,
   * as the hub's first run does (UserStore.ensureFirstRunAdmin): never an account whose only password was lost.
   */
  async ensureFirstRunLeader(
    now: number,
    deliver: (account: FirstRunAccount) => void | Promise<void> = () => {},
  ): Promise<FirstRunAccount | null> {
    if ((await this.count()) > 0) return null;
    const account = { username: 'leader', password: generateSecret(18) };
    await deliver(account);
    await this.add(account.username, account.password, ['trust-leader'], now);
    return account;
  }

  /** The account when the password is right and the account enabled; null otherwise. */
  async verifyPassword(username: string, password: string): Promise<TrustAccount | null> {
    const account = await this.get(username);
    const ok = await verifySecret(password, account?.passwordHash ?? DUMMY_HASH);
    return account && ok && !account.disabled ? account : null;
  }

  /** The opened TOTP secret, or undefined before enrolment. */
  totpSecret(account: TrustAccount): string | undefined {
    return account.totpSealed === undefined
      ? undefined
      : this.box.open(account.totpSealed, context(account.username));
  }

  async enrolTotp(username: string, secret: string, step: number): Promise<void> {
    const account = await this.must(username);
    await this.put({ ...account, totpSealed: this.box.seal(secret, context(username)), totpLastStep: step });
  }

  async useTotpStep(username: string, step: number): Promise<void> {
    await this.put({ ...(await this.must(username)), totpLastStep: step });
  }

  /** The holder's own new password (policy checked); clears the demand for one. */
  async setOwnPassword(username: string, password: string): Promise<void> {
    const problems = passwordProblems(username, password);
    if (problems.length > 0) throw new TrustAccountError('E_WEAK_PASSWORD', problems.join('; '));
    const { mustChangePassword: _was, ...account } = await this.must(username);
    await this.put({ ...account, passwordHash: await hashSecret(password) });
  }

  async setDisabled(username: string, disabled: boolean): Promise<void> {
    await this.put({ ...(await this.must(username)), disabled });
  }

  async account(username: string): Promise<TrustAccount | undefined> {
    return this.get(username);
  }

  private async put(account: TrustAccount): Promise<void> {
    await this.db.batch([{ type: 'put', sublevel: 'users', key: account.username, value: account }], {
      sync: true,
    });
  }
}

export function view(a: TrustAccount): AccountView {
  return {
    username: a.username,
    roles: a.roles,
    disabled: a.disabled,
    totpEnrolled: a.totpSealed !== undefined,
  };
}
