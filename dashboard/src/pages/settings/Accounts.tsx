/**
 * Accounts and roles (S1, S3, S5): one account per person, least privilege. Admins add accounts, change roles,
 * disable, and reset a lost second factor. Every change ends the account's live sessions and is audited (S6).
 */
import { useEffect, useState } from 'preact/hooks';
import { STAFF_ROLES } from '../../../../hub/users/roles.js';
import { api, errorText, fieldErrors } from '../../api.js';
import { Input, Notice } from '../../components/Field.js';
import { Table } from '../../components/Table.js';
import { fmtDateTime } from '../../format.js';
import { useLive } from '../../live.js';
import type { PendingView, UserView } from '../../types.js';
import { Approvals } from './Approvals.js';

const ROLE_TEXT: Record<string, string> = {
  office: 'Office',
  teacher: 'Teacher',
  coordinator: 'Online-safety coordinator',
  dsl: 'Designated safeguarding lead',
  head: 'Headteacher',
  admin: 'Administrator',
  governor: 'Chair of governors',
};

function RoleBoxes({
  prefix,
  checked,
  error,
}: {
  prefix: string;
  checked: string[];
  error?: string | undefined;
}) {
  return (
    <fieldset aria-describedby={error ? `${prefix}-roles-error` : undefined}>
      <legend>Roles</legend>
      {STAFF_ROLES.map((r) => (
        <label key={r} class="check">
          <input type="checkbox" name="roles" value={r} defaultChecked={checked.includes(r)} /> {ROLE_TEXT[r]}
        </label>
      ))}
      {error && (
        <p id={`${prefix}-roles-error`} class="field-error">
          <span aria-hidden="true">✗ </span>
          {error}
        </p>
      )}
    </fieldset>
  );
}

export function Accounts() {
  const live = useLive();
  const [users, setUsers] = useState<UserView[] | null>(null);
  const [error, setError] = useState('');
  const [ok, setOk] = useState('');
  const [fields, setFields] = useState<{ form: string; f: Record<string, string> }>({ form: '', f: {} });
  const [changed, setChanged] = useState(0);
  const write = live.may('users:write');
  const me = live.session.username;

  async function load() {
    try {
      setUsers(await api<UserView[]>('GET', '/api/users'));
    } catch (e) {
      setError(errorText(e));
    }
  }
  useEffect(() => {
    void load();
  }, []);

  /** A change is made at once, or waits for the headteacher or DSL to approve it: the message says which. */
  async function act(form: string, call: () => Promise<unknown>, done: string, el?: HTMLFormElement) {
    setError('');
    setOk('');
    setFields({ form: '', f: {} });
    try {
      const result = (await call()) as { pending?: PendingView } | null;
      setOk(
        result?.pending
          ? `Waiting for approval by the headteacher or the DSL: ${result.pending.description}.`
          : done,
      );
      el?.reset();
      setChanged((n) => n + 1);
      await load();
    } catch (e) {
      setError(errorText(e));
      setFields({ form, f: fieldErrors(e) });
    }
  }
  const f = (form: string) => (fields.form === form ? fields.f : {});

  return (
    <section aria-labelledby="acc-heading">
      <h2 id="acc-heading">Accounts and roles</h2>
      <Notice error={error} ok={ok} />
      {users && !users.some((u) => u.roles.includes('head')) && (
        <p class="notice" data-testid="head-setup">
          There is no headteacher account yet. Add one below with a first password and give it to the
          headteacher privately: at their first sign-in they choose their own password and set up their second
          factor.
        </p>
      )}
      {!users ? (
        <p>Loading…</p>
      ) : (
        <Table
          caption="Staff accounts"
          columns={['Username', 'Roles', 'Second factor', 'State', 'Created', write && 'Actions']}
        >
          {users.map((u) => (
            <tr key={u.username}>
              <th scope="row">{u.username}</th>
              <td>{u.roles.map((r) => ROLE_TEXT[r] ?? r).join(', ')}</td>
              <td>{u.totpEnrolled ? 'Set up' : 'Not set up'}</td>
              <td>
                {u.disabled
                  ? 'Disabled'
                  : u.mustChangePassword
                    ? 'Active: chooses a new password at next sign-in'
                    : 'Active'}
              </td>
              <td>{fmtDateTime(u.createdAt)}</td>
              {write && u.username === me && <td class="actions">Change your password on Your account.</td>}
              {write && u.username !== me && (
                <td class="actions">
                  <button
                    type="button"
                    onClick={() =>
                      void act(
                        'row',
                        () => api('POST', `/api/users/${u.username}/disable`, { disabled: !u.disabled }),
                        `${u.username} ${u.disabled ? 'enabled' : 'disabled'}.`,
                      )
                    }
                  >
                    {u.disabled ? 'Enable' : 'Disable'}
                    <span class="visually-hidden"> {u.username}</span>
                  </button>{' '}
                  {u.totpEnrolled && (
                    <button
                      type="button"
                      onClick={() =>
                        void act(
                          'row',
                          () => api('POST', `/api/users/${u.username}/reset-totp`),
                          `${u.username} will choose a new password and set up a new second factor at next sign-in.`,
                        )
                      }
                    >
                      Reset second factor<span class="visually-hidden"> for {u.username}</span>
                    </button>
                  )}
                  <details>
                    <summary>
                      Change roles<span class="visually-hidden"> of {u.username}</span>
                    </summary>
                    <form
                      onSubmit={(event) => {
                        event.preventDefault();
                        const el = event.currentTarget as HTMLFormElement;
                        const roles = new FormData(el).getAll('roles').map(String);
                        void act(
                          `roles-${u.username}`,
                          () => api('POST', `/api/users/${u.username}/role`, { roles }),
                          `Roles of ${u.username} changed.`,
                        );
                      }}
                    >
                      <RoleBoxes
                        prefix={`r-${u.username}`}
                        checked={u.roles}
                        error={f(`roles-${u.username}`).roles}
                      />
                      <button type="submit">Save roles</button>
                    </form>
                  </details>
                </td>
              )}
            </tr>
          ))}
        </Table>
      )}
      {write && (
        <form
          class="stack"
          aria-labelledby="acc-new-heading"
          onSubmit={(event) => {
            event.preventDefault();
            const el = event.currentTarget as HTMLFormElement;
            const data = new FormData(el);
            void act(
              'add',
              () =>
                api('POST', '/api/users', {
                  username: String(data.get('new-username')).trim(),
                  password: String(data.get('new-password')),
                  roles: data.getAll('roles').map(String),
                  ...(String(data.get('new-email') ?? '').trim()
                    ? { email: String(data.get('new-email')).trim() }
                    : {}),
                }),
              'Account added. Roles that see incidents or change policy set up a second factor at first sign-in.',
              el,
            );
          }}
        >
          <h3 id="acc-new-heading">Add an account</h3>
          <Input id="new-username" label="Username" autocomplete="off" required error={f('add').username} />
          <Input
            id="new-password"
            label="First password"
            type="password"
            autocomplete="new-password"
            hint="At least 12 characters; give it to the person privately."
            required
            error={f('add').password}
          />
          <Input
            id="new-email"
            label="Email (optional)"
            type="email"
            autocomplete="off"
            hint="Where this person is told about changes to their account."
            error={f('add').email}
          />
          <RoleBoxes prefix="new" checked={[]} error={f('add').roles} />
          <button type="submit" class="primary">
            Add account
          </button>
        </form>
      )}
      <Approvals reload={changed} />
    </section>
  );
}
