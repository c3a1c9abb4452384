/**
 * Your own account (S1): change your password. The current password is asked first (under sign-in's lockout), the
 * new one must meet the password policy, and on success every session of the account ends, this one included, so
 * the next step is signing in with the new password.
 */
import { useState } from 'preact/hooks';
import { ApiError, api, errorText, fieldErrors } from '../api.js';
import { Input, Notice } from '../components/Field.js';
import { useLive } from '../live.js';

export function Account({ onPasswordChanged }: { onPasswordChanged: () => void }) {
  const live = useLive();
  const [fields, setFields] = useState<Record<string, string>>({});
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const current = String(form.get('current') ?? '');
    const password = String(form.get('password') ?? '');
    setError('');
    if (password !== String(form.get('confirm') ?? '')) {
      setFields({ confirm: 'does not match the new password' });
      return;
    }
    setFields({});
    setBusy(true);
    try {
      await api('POST', '/api/session/password', { current, password });
      onPasswordChanged();
    } catch (failure) {
      const byField = fieldErrors(failure);
      // E_LOGIN: the current password was wrong (a lockout is E_LOCKED / E_THROTTLED, said for the whole form).
      const wrongCurrent = failure instanceof ApiError && failure.code === 'E_LOGIN';
      if (wrongCurrent) byField.current = errorText(failure);
      setFields(byField);
      if (!wrongCurrent && Object.keys(byField).length === 0) setError(errorText(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="account-heading">
      <h2 id="account-heading">Your account</h2>
      <p>
        Signed in as <strong>{live.session.username}</strong> ({live.session.roles.join(', ')}).
      </p>
      <form
        onSubmit={submit}
        class="stack"
        aria-labelledby="password-heading"
        data-testid="password-form"
        noValidate
      >
        <h3 id="password-heading">Change your password</h3>
        <Input
          id="current"
          label="Current password"
          type="password"
          autocomplete="current-password"
          required
          error={fields.current}
        />
        <Input
          id="password"
          label="New password"
          type="password"
          autocomplete="new-password"
          required
          hint="At least 12 characters; a phrase of a few words is easiest to remember. You will sign in again afterwards."
          error={fields.password}
        />
        <Input
          id="confirm"
          label="New password again"
          type="password"
          autocomplete="new-password"
          required
          error={fields.confirm}
        />
        <Notice error={error || undefined} />
        <button type="submit" disabled={busy}>
          Change password
        </button>
      </form>
    </section>
  );
}
