/**
 * Separation of duties over the real HTTP API of a real hub, with a real SMTP server on loopback (S1, S5, S6): the
 * first-run account is administrator only; the first head is set up without approval and must choose their own
 * password; afterwards no administrator can give anyone (themselves included) the power to read reports, or take over
 * a report reader's account, without a second person.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../../hub/users/totp.js';
import { type HubFixture, startTestHub, waitFor } from '../../support/hub-fixture.js';
import { type SmtpCapture, startSmtpCapture } from '../../support/smtp-capture.js';
import { data, StaffClient } from '../../support/staff-client.js';

const PASSWORD = 'tulip lantern orbit 42';

interface Pending {
  id: string;
  username: string;
  requestedBy: string;
  description: string;
}

describe('separation of duties for accounts (S1, S5, S6)', () => {
  let smtp: SmtpCapture;
  let fixture: HubFixture;
  let admin: StaffClient;
  let admin2: StaffClient;
  let head: StaffClient;
  let dsl: StaffClient;

  const roles = async (username: string) => (await fixture.hub.users.get(username))?.roles;
  const actions = async () =>
    (await fixture.hub.audit.list({ limit: 1000, reverse: false })).map((e) => e.action);

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    fixture = await startTestHub({
      config: {
        notifications: {
          dashboardUrl: 'https://hub.school.example/',
          email: {
            host: '127.0.0.1',
            port: smtp.port,
            from: 'hub@school.example',
            to: { head: ['head-office@school.example'], dsl: ['dsl-office@school.example'] },
          },
          retryDelaySeconds: 1,
        },
      },
    });
    const first = fixture.hub.firstRunAdmin;
    if (!first) throw new Error('no first-run admin');
    admin = new StaffClient(fixture.hub.httpUrl, first.username, first.password);
    expect((await admin.signIn()).status).toBe(200);
  });

  afterAll(async () => {
    await fixture?.dispose();
    await smtp?.close();
  });

  it('S5: the first-run account is administrator only and reads no report', async () => {
    expect(await roles('admin')).toEqual(['admin']);
    expect((await admin.get('/api/incidents')).status).toBe(403);
  });

  it('S5: no account grants itself a role, even through another route', async () => {
    for (const r of [['admin', 'dsl'], ['admin', 'governor'], ['admin', 'head'], ['office']]) {
      const reply = await admin.post('/api/users/admin/role', { roles: r });
      expect(reply.status, r.join('+')).toBe(403);
      expect(reply.body).toMatchObject({ error: { code: 'E_SELF' } });
    }
    expect((await admin.post('/api/users/admin/reset-totp')).status).toBe(403);
    expect(
      (await admin.post('/api/users/admin/password', { password: 'another long passphrase 7' })).status,
    ).toBe(403);
    expect(await roles('admin')).toEqual(['admin']);
    expect(await actions()).not.toContain('account.change-requested');
  });

  it('S1, S5: the first head is set up without approval and must choose their own password and second factor', async () => {
    const added = await admin.post('/api/users', {
      username: 'hattie',
      password: PASSWORD,
      roles: ['head'],
      email: 'hattie@school.example',
    });
    expect(added.status).toBe(201);
    expect(data(added)).toMatchObject({ roles: ['head'], mustChangePassword: true, totpEnrolled: false });
    // Her first sign-in: her own second factor, then her own password, before any session.
    head = new StaffClient(fixture.hub.httpUrl, 'hattie', PASSWORD);
    const enrol = data(
      await head.post<{ needsTotpEnrolment: boolean; loginToken: string; secret: string }>('/api/login', {
        username: 'hattie',
        password: PASSWORD,
      }),
    );
    expect(enrol.needsTotpEnrolment).toBe(true);
    const forced = data(
      await head.post<{ needsNewPassword: boolean; loginToken: string }>('/api/login/totp', {
        loginToken: enrol.loginToken,
        code: totpCode(enrol.secret, Date.now()),
      }),
    );
    expect(forced.needsNewPassword).toBe(true);
    const chosen = await head.post<{ csrf: string }>('/api/login/password', {
      loginToken: forced.loginToken,
      password: 'our new head chooses 99',
    });
    expect(chosen.status).toBe(200);
    head.csrf = data(chosen).csrf;
    head.totpSecret = enrol.secret;
    expect((await fixture.hub.users.get('hattie'))?.mustChangePassword).toBeUndefined();
    // A second head, once one exists, waits for approval like any other grant.
    const second = await admin.post<{ pending: Pending }>('/api/users', {
      username: 'deputy',
      password: PASSWORD,
      roles: ['head'],
    });
    expect(second.status).toBe(202);
    expect(await fixture.hub.users.get('deputy')).toBeUndefined();
    expect((await head.get('/api/session')).status).toBe(200);
    await fixture.hub.users.add('dora', PASSWORD, ['dsl'], Date.now());
    dsl = new StaffClient(fixture.hub.httpUrl, 'dora', PASSWORD);
    expect((await dsl.signIn()).status).toBe(200);
    await head.post(`/api/approvals/${data(second).pending.id}/refuse`);
  });

  it('S5, S6: granting a report-reading role waits for a second person; the requester cannot approve it', async () => {
    await fixture.hub.users.add('tom', PASSWORD, ['teacher'], Date.now());
    await fixture.hub.users.add('adam', PASSWORD, ['admin', 'head'], Date.now());
    admin2 = new StaffClient(fixture.hub.httpUrl, 'adam', PASSWORD);
    expect((await admin2.signIn()).status).toBe(200);
    const mailsBefore = smtp.mails.length;
    const requested = await admin2.post<{ pending: Pending }>('/api/users/tom/role', {
      roles: ['teacher', 'dsl'],
    });
    expect(requested.status).toBe(202);
    const { pending } = data(requested);
    expect(pending).toMatchObject({ username: 'tom', requestedBy: 'adam' });
    expect(pending.description).toContain('designated safeguarding lead');
    expect(await roles('tom')).toEqual(['teacher']);
    // The requester holds head too, but still may not approve their own request; an admin may not approve at all.
    expect((await admin2.post(`/api/approvals/${pending.id}/approve`)).body).toMatchObject({
      error: { code: 'E_SELF' },
    });
    expect((await admin.post(`/api/approvals/${pending.id}/approve`)).status).toBe(403);
    expect(await roles('tom')).toEqual(['teacher']);
    // The approvers are told by email.
    const notice = await waitFor(
      () => smtp.mails.slice(mailsBefore).find((m) => m.to.includes('head-office@school.example')),
      'approval request email',
    );
    expect(notice.raw).toContain('waiting for your approval');
    expect(data(await head.post(`/api/approvals/${pending.id}/approve`))).toMatchObject({
      roles: ['teacher', 'dsl'],
    });
    expect(await roles('tom')).toEqual(['teacher', 'dsl']);
    const log = await fixture.hub.audit.list({ limit: 1000, reverse: false });
    const mine = log.filter((e) => e.target === 'user:tom').map((e) => [e.action, e.actor]);
    expect(mine.slice(-3)).toEqual([
      ['account.change-requested', 'user:adam'],
      ['account.change-approved', 'user:hattie'],
      ['user.roles', 'user:adam'],
    ]);
    expect((await admin.get<Pending[]>('/api/approvals')).status).toBe(200);
    expect(data(await admin.get<Pending[]>('/api/approvals'))).toEqual([]);
  });

  it('S5: nobody approves a change to their own account; a refusal changes nothing and is audited', async () => {
    const aboutHead = await admin.post<{ pending: Pending }>('/api/users/hattie/role', {
      roles: ['head', 'governor'],
    });
    expect(aboutHead.status).toBe(202);
    const { id } = data(aboutHead).pending;
    expect((await head.post(`/api/approvals/${id}/approve`)).body).toMatchObject({
      error: { code: 'E_SELF' },
    });
    expect(await roles('hattie')).toEqual(['head']);
    expect((await dsl.post(`/api/approvals/${id}/refuse`)).status).toBe(200);
    expect(await roles('hattie')).toEqual(['head']);
    expect((await head.post(`/api/approvals/${id}/approve`)).status).toBe(404);
    expect((await fixture.hub.audit.list({ limit: 1 }))[0]).toMatchObject({
      action: 'account.change-refused',
      actor: 'user:dora',
    });
    // Removing a report-reading role waits too; a change among other roles does not.
    expect((await admin.post('/api/users/tom/role', { roles: ['teacher'] })).status).toBe(202);
    expect((await admin.post('/api/users/tom/role', { roles: ['teacher', 'dsl', 'office'] })).status).toBe(
      200,
    );
    expect(await roles('tom')).toEqual(['teacher', 'dsl', 'office']);
  });

  it('S1, S5: a reset of a report reader waits; the old password works until approved, then a new one is due', async () => {
    const mailsBefore = smtp.mails.length;
    const requested = await admin.post<{ pending: Pending }>('/api/users/hattie/password', {
      password: 'admin knows this one 55',
    });
    expect(requested.status).toBe(202);
    // Until approved, the administrator's password does not open the head's account.
    const attempt = await new StaffClient(fixture.hub.httpUrl, 'hattie', 'admin knows this one 55').post(
      '/api/login',
      { username: 'hattie', password: 'admin knows this one 55' },
    );
    expect(attempt.status).toBe(401);
    const { id } = data(requested).pending;
    expect(data(await dsl.post(`/api/approvals/${id}/approve`))).toMatchObject({
      mustChangePassword: true,
      totpEnrolled: true,
    });
    // The head is told, at her own address.
    const told = await waitFor(
      () =>
        smtp.mails
          .slice(mailsBefore)
          .find((m) => m.to.includes('hattie@school.example') && /approved/.test(m.raw)),
      'reset email to the head',
    );
    expect(told.raw).toContain('choose a new password');
    // The head's sessions ended with the change.
    expect((await head.get('/api/session')).status).toBe(401);
    // The temporary password alone opens nothing: the head's own second factor, then a password of her own.
    const afterReset = data(
      await head.post<{ needsTotp: boolean; loginToken: string }>('/api/login', {
        username: 'hattie',
        password: 'admin knows this one 55',
      }),
    );
    expect(afterReset).toEqual({ needsTotp: true, loginToken: expect.any(String) });
    const forced = data(
      await head.post<Record<string, unknown>>('/api/login/totp', {
        loginToken: afterReset.loginToken,
        code: totpCode(head.totpSecret as string, Date.now() + 30_000),
      }),
    );
    expect(forced).toEqual({ needsNewPassword: true, loginToken: expect.any(String) });
    expect((await head.get('/api/session')).status).toBe(401);
  });

  it('S5: a password reset for a role that reads no report is made at once, still with a new password due', async () => {
    const reply = await admin.post('/api/users/adam/password', { password: 'a fresh passphrase 2026' });
    expect(reply.status).toBe(202); // adam holds head
    await fixture.hub.users.add('olive', PASSWORD, ['office'], Date.now());
    const office = await admin.post('/api/users/olive/password', { password: 'a fresh passphrase 2026' });
    expect(office.status).toBe(200);
    expect(data(office)).toMatchObject({ mustChangePassword: true });
  });

  it('S5: a disabled report reader gets its access back only once a second person approves; disabling is at once', async () => {
    const { hub } = fixture;
    await hub.users.add('dina', PASSWORD, ['dsl'], Date.now());
    // An office account's enabling is no grant of reports: made at once.
    expect((await admin.post('/api/users/olive/disable', { disabled: true })).status).toBe(200);
    expect((await admin.post('/api/users/olive/disable', { disabled: false })).status).toBe(200);
    expect((await hub.users.get('olive'))?.disabled).toBe(false);
    // The DSL leaves: disabled at once.
    expect((await admin.post('/api/users/dina/disable', { disabled: true })).status).toBe(200);
    const dina = new StaffClient(hub.httpUrl, 'dina', PASSWORD);
    expect((await dina.signIn()).status).toBe(401);
    // The attack: the administrator quietly enables the departed DSL's account again.
    const enabled = await admin.post<{ pending: Pending }>('/api/users/dina/disable', { disabled: false });
    expect(enabled.status).toBe(202);
    const { pending } = data(enabled);
    expect(pending.description).toBe('enable the account dina again, as designated safeguarding lead');
    expect((await hub.users.get('dina'))?.disabled).toBe(true);
    expect((await dina.signIn()).status).toBe(401);
    expect((await admin.post(`/api/approvals/${pending.id}/approve`)).status).toBe(403);
    // A second person (the DSL) approves: the account works again, and the log holds who asked and who approved.
    await hub.users.add('hana', PASSWORD, ['dsl'], Date.now());
    const approver = new StaffClient(hub.httpUrl, 'hana', PASSWORD);
    expect((await approver.signIn()).status).toBe(200);
    expect(data(await approver.post(`/api/approvals/${pending.id}/approve`))).toMatchObject({
      disabled: false,
    });
    expect((await dina.signIn()).status).toBe(200);
    const log = await hub.audit.list({ limit: 1000, reverse: false });
    const mine = log.filter((e) => e.target === 'user:dina').map((e) => [e.action, e.actor]);
    // Before its first sign-in since (which enrols its second factor): asked, approved, enabled.
    expect(mine.slice(-4, -1)).toEqual([
      ['account.change-requested', `user:${admin.username}`],
      ['account.change-approved', 'user:hana'],
      ['user.enable', `user:${admin.username}`],
    ]);
  });
  it('S5: a report role asked for an account whose password an administrator reset names that reset to the approver', async () => {
    const { hub } = fixture;
    // The attack: an office account's reset is made at once; the administrator now knows its password.
    await hub.users.add('oscar', PASSWORD, ['office'], Date.now());
    expect(
      (await admin.post('/api/users/oscar/password', { password: 'a chosen passphrase 2026' })).status,
    ).toBe(200);
    const asked = await admin.post<{ pending: Pending }>('/api/users/oscar/role', {
      roles: ['office', 'coordinator'],
    });
    expect(asked.status).toBe(202);
    const { pending } = data(asked);
    const today = new Date().toISOString().slice(0, 10);
    expect(pending.description).toBe(
      `change the roles of oscar from office to office, online-safety coordinator (its password was reset by ${admin.username} on ${today}: ask oscar in person before approving)`,
    );
    // The approvers' list says it too.
    const listed = await hub.safeguarding.changes.pending();
    expect(listed.find((p) => p.id === pending.id)?.description).toBe(pending.description);
    // Withdrawn by the administrator who asked: nothing changes.
    expect((await admin.post(`/api/approvals/${pending.id}/refuse`)).status).toBeLessThan(300);
  });
});
