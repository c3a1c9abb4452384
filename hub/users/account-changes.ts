/**
 * Separation of duties for accounts (S1, S5, S6). An administrator manages accounts, but may not on their own give
 * anyone the power to read safeguarding reports, or take over an account that has it:
 *
 * - no account changes its own roles, password (other than through its own password change) or second factor here;
 * - granting or removing a role that reads reports (coordinator, DSL, head, governor), adding an account with one, and
 *   resetting the password or second factor of an account that holds one, wait as a pending change until a second
 *   person approves it in the dashboard. The approver holds head or DSL and is neither the requester nor the account
 *   changed. Requests, approvals and refusals are audited, each in the same batch as what it does, and the person
 *   affected (and the approvers) are emailed;
 * - after a reset, and for an account someone else set up with a report-reading role, the person chooses a new
 *   password at the next sign-in (after a second-factor reset, also a new second factor), so whoever knew the old
 *   ones cannot use them. A password reset keeps the second factor: the temporary password alone opens nothing.
 *
 * One exception, so a school can start: the very first head (while no account has ever held head or DSL) is added
 * without approval, with a first password the head must replace, and a second factor they set up themselves.
 */
import { randomUUID } from 'node:crypto';
import type { BatchOp, HubDb } from '../db/hub-db.js';
import type { AuditRecord } from '../event-bus.js';
import type { Logger } from '../log.js';
import type { StaffRole } from './roles.js';
import { type StoredUser, UserError, type UserStore, type UserView, view as userView } from './user-store.js';

/** Roles that read safeguarding reports: changes that grant or touch them need a second person. */
export const REPORT_ROLES: readonly StaffRole[] = ['coordinator', 'dsl', 'head', 'governor'];
/** Who may approve such a change. */
export const APPROVER_ROLES: readonly StaffRole[] = ['head', 'dsl'];

export type ChangeRequest =
  | { kind: 'add'; username: string; roles: StaffRole[]; passwordHash: string; email?: string }
  | { kind: 'roles'; username: string; roles: StaffRole[] }
  | { kind: 'password'; username: string; passwordHash: string }
  | { kind: 'reset-totp'; username: string }
  /** A disabled account given its access back (disabling is at once: it only takes access away). */
  | { kind: 'enable'; username: string };

export interface PendingChange {
  id: string;
  request: ChangeRequest;
  /** `user:<name>` */
  requestedBy: string;
  requestedAt: number;
}

/** What the dashboard shows of a pending change: never a password hash. */
export interface PendingView {
  id: string;
  kind: ChangeRequest['kind'];
  username: string;
  roles?: StaffRole[];
  requestedBy: string;
  requestedAt: number;
  description: string;
}

export type ChangeOutcome = { applied: true; user: UserView } | { applied: false; pending: PendingView };

export interface Actor {
  username: string;
  roles: readonly StaffRole[];
}

export interface Mail {
  to: string[];
  subject: string;
  text: string;
}

const readsReports = (roles: readonly StaffRole[]) => roles.some((r) => REPORT_ROLES.includes(r));
const ROLE_WORDS: Record<StaffRole, string> = {
  office: 'office',
  teacher: 'teacher',
  coordinator: 'online-safety coordinator',
  dsl: 'designated safeguarding lead',
  head: 'headteacher',
  admin: 'administrator',
  governor: 'chair of governors',
};
const roleList = (roles: readonly StaffRole[]) => roles.map((r) => ROLE_WORDS[r]).join(', ');

/** Pure: whether a change must wait for a second person, given the account as it is now. */
export function needsApproval(request: ChangeRequest, target: StoredUser | undefined): boolean {
  switch (request.kind) {
    case 'add':
      return readsReports(request.roles);
    case 'roles': {
      const before = target?.roles ?? [];
      const changed = REPORT_ROLES.filter((r) => before.includes(r) !== request.roles.includes(r));
      return changed.length > 0;
    }
    case 'password':
    case 'reset-totp':
    // Disabling is how a departed DSL is taken off at once; giving such an account back its reports is a grant.
    case 'enable':
      return readsReports(target?.roles ?? []);
  }
}

/** How long a reset by someone else is named to whoever approves a report-reading role for the account. */
export const RECENT_RESET_MS = 30 * 86_400_000;

/**
 * Pure: the change in plain words, for the approver, the audit log and the email. A report-reading role asked for an
 * account whose password someone else reset lately names that reset: a non-report account's reset is made at once,
 * so an administrator could reset a teacher's password, sign in as the teacher and ask for the coordinator's role.
 */
export function describe(request: ChangeRequest, target: StoredUser | undefined, now?: number): string {
  switch (request.kind) {
    case 'add':
      return `add the account ${request.username} as ${roleList(request.roles)}`;
    case 'roles': {
      const change = `change the roles of ${request.username} from ${roleList(target?.roles ?? []) || 'none'} to ${roleList(request.roles)}`;
      const grants = request.roles.some((r) => REPORT_ROLES.includes(r) && !target?.roles.includes(r));
      const { resetBy, resetAt } = target ?? {};
      if (
        !grants ||
        !resetBy ||
        resetAt === undefined ||
        now === undefined ||
        now - resetAt > RECENT_RESET_MS
      )
        return change;
      if (resetBy === `user:${request.username}`) return change;
      const when = new Date(resetAt).toISOString().slice(0, 10);
      return `${change} (its password was reset by ${resetBy.replace(/^user:/, '')} on ${when}: ask ${request.username} in person before approving)`;
    }
    case 'password':
      return `reset the password of ${request.username}`;
    case 'reset-totp':
      return `reset the second factor of ${request.username}`;
    case 'enable':
      return `enable the account ${request.username} again, as ${roleList(target?.roles ?? []) || 'no role'}`;
  }
}

export class AccountChanges {
  constructor(
    private readonly deps: {
      users: UserStore;
      db: HubDb;
      now: () => number;
      log: Logger;
      /** Durable email (the notifier), if configured. */
      mail?: (mail: Mail) => Promise<void>;
      /** Addresses of those who approve (the head's and DSL's notification addresses). */
      approverAddresses?: string[];
    },
  ) {}

  /** Pending changes, oldest first. */
  async pending(): Promise<PendingView[]> {
    const all = await this.deps.db.values<PendingChange>('approvals');
    const views: PendingView[] = [];
    for (const change of all.sort((a, b) => a.requestedAt - b.requestedAt))
      views.push(this.view(change, await this.deps.users.stored(change.request.username)));
    return views;
  }

  /** An administrator asks for a change: applied now, or kept pending for a second person. */
  async request(actor: Actor, request: ChangeRequest): Promise<ChangeOutcome> {
    const { users, now } = this.deps;
    if (request.username === actor.username && request.kind !== 'add')
      throw new UserError(
        'E_SELF',
        request.kind === 'roles'
          ? 'no account may change its own roles: ask another administrator'
          : 'change your own password on Your account',
      );
    const target = request.kind === 'add' ? undefined : await users.must(request.username);
    if (request.kind === 'add' && (await users.stored(request.username)))
      throw new UserError('E_USER_EXISTS', `user '${request.username}' exists`);
    if (request.kind === 'roles' && target?.roles.includes('admin') && !request.roles.includes('admin'))
      await users.keepAnAdmin(request.username);
    const by = `user:${actor.username}`;
    const firstHead =
      request.kind === 'add' &&
      request.roles.includes('head') &&
      !(await users.anyWithRole(APPROVER_ROLES)) &&
      request.roles.every((r) => r === 'head' || !REPORT_ROLES.includes(r));
    if (!needsApproval(request, target) || firstHead) {
      const { ops, records, user } = await this.applyOps(request, target, by);
      await users.commitAll(records, ops);
      return { applied: true, user };
    }
    const change: PendingChange = { id: randomUUID(), request, requestedBy: by, requestedAt: now() };
    const view = this.view(change, target);
    await users.commitAll(
      [
        {
          actor: by,
          action: 'account.change-requested',
          target: `user:${request.username}`,
          after: { id: change.id, change: view.description },
        },
      ],
      [{ type: 'put', sublevel: 'approvals', key: change.id, value: change }],
    );
    await this.tell(target?.email ?? (request.kind === 'add' ? request.email : undefined), {
      subject: '[phones-away] A change to your account is waiting for approval',
      text: `An administrator asked to ${view.description}. It takes effect only when the headteacher or the DSL approves it on the dashboard. If you did not expect this, tell your DSL.`,
    });
    await this.tellApprovers({
      subject: '[phones-away] An account change is waiting for your approval',
      text: `${actor.username} asked to ${view.description}. Sign in to the dashboard (Settings, Approvals) to approve or refuse it. You cannot approve a change you asked for or one to your own account.`,
    });
    return { applied: false, pending: view };
  }

  /** A second person approves: the change and its audit entries are committed together. */
  async approve(approver: Actor, id: string): Promise<UserView> {
    const change = await this.mustPending(id);
    this.checkApprover(approver, change);
    const target = await this.deps.users.stored(change.request.username);
    if (change.request.kind !== 'add' && !target)
      throw new UserError('E_NOT_FOUND', `no user '${change.request.username}'`);
    if (change.request.kind === 'add' && target)
      throw new UserError('E_USER_EXISTS', `user '${change.request.username}' exists`);
    const by = `user:${approver.username}`;
    const { ops, records, user } = await this.applyOps(change.request, target, change.requestedBy);
    const description = describe(change.request, target, this.deps.now());
    await this.deps.users.commitAll(
      [
        {
          actor: by,
          action: 'account.change-approved',
          target: `user:${change.request.username}`,
          after: { id, change: description, requestedBy: change.requestedBy },
        },
        ...records,
      ],
      [...ops, { type: 'del', sublevel: 'approvals', key: id }],
    );
    await this.tell(target?.email ?? (change.request.kind === 'add' ? change.request.email : undefined), {
      subject: '[phones-away] A change to your account was approved',
      text: `${approver.username} approved the request to ${description}.${
        change.request.kind === 'password' || change.request.kind === 'reset-totp'
          ? ' At your next sign-in you will choose a new password and set up your second factor again.'
          : ''
      }`,
    });
    return user;
  }

  /** A second person refuses it, or the requester withdraws it; audited either way. */
  async reject(actor: Actor, id: string): Promise<void> {
    const change = await this.mustPending(id);
    const by = `user:${actor.username}`;
    if (by !== change.requestedBy) this.checkApprover(actor, change);
    const target = await this.deps.users.stored(change.request.username);
    const description = describe(change.request, target, this.deps.now());
    await this.deps.users.commitAll(
      [
        {
          actor: by,
          action: by === change.requestedBy ? 'account.change-withdrawn' : 'account.change-refused',
          target: `user:${change.request.username}`,
          after: { id, change: description, requestedBy: change.requestedBy },
        },
      ],
      [{ type: 'del', sublevel: 'approvals', key: id }],
    );
    await this.tell(target?.email, {
      subject: '[phones-away] A change to your account was not made',
      text: `The request to ${description} was ${by === change.requestedBy ? 'withdrawn' : `refused by ${actor.username}`}. Nothing changed.`,
    });
  }

  private checkApprover(approver: Actor, change: PendingChange): void {
    if (!approver.roles.some((r) => APPROVER_ROLES.includes(r)))
      throw new UserError('E_FORBIDDEN', 'only the headteacher or the DSL approves account changes');
    if (`user:${approver.username}` === change.requestedBy)
      throw new UserError(
        'E_SELF',
        'a change must be approved by someone other than the person who asked for it',
      );
    if (approver.username === change.request.username)
      throw new UserError('E_SELF', 'a change to your own account must be approved by someone else');
  }

  private async mustPending(id: string): Promise<PendingChange> {
    const change = await this.deps.db.get<PendingChange>('approvals', id);
    if (!change) throw new UserError('E_NOT_FOUND', 'no such pending change (already approved or refused?)');
    return change;
  }

  /** The ops and audit records that carry out a change, attributed to the person who asked for it. */
  private async applyOps(
    request: ChangeRequest,
    target: StoredUser | undefined,
    by: string,
  ): Promise<{ ops: BatchOp[]; records: AuditRecord[]; user: UserView }> {
    const { users, now } = this.deps;
    let next: StoredUser;
    let action: string;
    switch (request.kind) {
      case 'add':
        next = {
          username: request.username,
          roles: request.roles,
          passwordHash: request.passwordHash,
          disabled: false,
          createdAt: now(),
          passwordChangedAt: now(),
          // Someone else chose this password: a report reader replaces it at first sign-in.
          ...(readsReports(request.roles) ? { mustChangePassword: true } : {}),
          ...(request.email ? { email: request.email } : {}),
        };
        action = 'user.add';
        break;
      case 'roles':
        next = { ...(target as StoredUser), roles: request.roles };
        action = 'user.roles';
        break;
      case 'password':
        // The second factor stays: whoever set the temporary password still cannot sign in without the person's phone.
        next = {
          ...(target as StoredUser),
          passwordHash: request.passwordHash,
          passwordChangedAt: now(),
          mustChangePassword: true,
          resetBy: by,
          resetAt: now(),
        };
        action = 'user.password';
        break;
      case 'reset-totp': {
        const { totpSecret: _s, totpSealed: _x, totpLastStep: _t, ...rest } = target as StoredUser;
        next = { ...rest, mustChangePassword: true, resetBy: by, resetAt: now() };
        action = 'user.reset-totp';
        break;
      }
      case 'enable':
        next = { ...(target as StoredUser), disabled: false };
        action = 'user.enable';
        break;
    }
    const { ops, records } = users.change(by, action, target, next);
    return { ops, records, user: userView(next) };
  }

  private view(change: PendingChange, target: StoredUser | undefined): PendingView {
    const { request } = change;
    return {
      id: change.id,
      kind: request.kind,
      username: request.username,
      ...('roles' in request ? { roles: request.roles } : {}),
      requestedBy: change.requestedBy.replace(/^user:/, ''),
      requestedAt: change.requestedAt,
      description: describe(request, target, this.deps.now()),
    };
  }

  private async tell(address: string | undefined, message: Omit<Mail, 'to'>): Promise<void> {
    if (!address) return;
    await this.send({ to: [address], ...message });
  }

  private async tellApprovers(message: Omit<Mail, 'to'>): Promise<void> {
    const to = this.deps.approverAddresses ?? [];
    if (to.length) await this.send({ to, ...message });
  }

  private async send(mail: Mail): Promise<void> {
    if (!this.deps.mail) return;
    // The change is already committed: a mail problem is logged, never undoes or blocks it.
    await this.deps
      .mail(mail)
      .catch((error) => this.deps.log.error({ err: error }, 'account notice not queued'));
  }
}
