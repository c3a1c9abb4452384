/**
 * Sign-in (S1, S3): username and password, then a six-digit code for roles that see incidents or change policy, then
 * a new password when a reset asked for one. A first sign-in of such a role enrols: a QR code of the `otpauth://` link
 * to scan with an authenticator app, drawn in the browser (nothing leaves the hub for a QR service), and the secret as
 * text for apps or people that type it. Each step renders a fresh form (keyed by step), so nothing typed at one step
 * is left in the page's inputs at the next: the password never shows up in the code field.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, errorText, fieldErrors, type LoginStep, type SessionInfo } from '../api.js';
import { Input } from './Field.js';
import { QrCode } from './QrCode.js';

type Step =
  | { kind: 'password' }
  | { kind: 'totp'; loginToken: string }
  | { kind: 'enrol'; loginToken: string; secret: string; otpauthUri: string }
  | { kind: 'new-password'; loginToken: string };

export function Login({
  onSignedIn,
  heading = 'Sign in',
  intro,
}: {
  onSignedIn: (s: SessionInfo) => void;
  heading?: string;
  intro?: ComponentChildren;
}) {
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [error, setError] = useState('');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    // Focus follows the step, so keyboard and screen-reader users land on the field to fill in.
    if (step.kind === 'new-password') document.getElementById('new-password')?.focus();
    else if (step.kind !== 'password') document.getElementById('code')?.focus();
  }, [step]);

  async function run(call: () => Promise<LoginStep>) {
    setBusy(true);
    setError('');
    setFields({});
    try {
      const result = await call();
      if ('csrf' in result) onSignedIn(result);
      else if ('needsNewPassword' in result) setStep({ kind: 'new-password', loginToken: result.loginToken });
      else if ('needsTotpEnrolment' in result) setStep({ kind: 'enrol', ...result });
      else setStep({ kind: 'totp', loginToken: result.loginToken });
    } catch (e) {
      setError(errorText(e));
      setFields(fieldErrors(e));
      if (e instanceof Error && 'code' in e && e.code === 'E_LOGIN_EXPIRED') setStep({ kind: 'password' });
    } finally {
      setBusy(false);
    }
  }

  function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? '');
    if (step.kind === 'password')
      void run(() =>
        api<LoginStep>('POST', '/api/login', {
          username: text('username').trim(),
          password: text('password'),
        }),
      );
    else if (step.kind === 'new-password') {
      if (text('new-password') !== text('repeat-password')) {
        setError('');
        setFields({ repeat: 'the two passwords are not the same' });
        return;
      }
      void run(() =>
        api<LoginStep>('POST', '/api/login/password', {
          loginToken: step.loginToken,
          password: text('new-password'),
        }),
      );
    } else
      void run(() =>
        api<LoginStep>('POST', '/api/login/totp', {
          loginToken: step.loginToken,
          code: text('code').replace(/\s/g, ''),
        }),
      );
  }

  return (
    <main class="login" id="main">
      <h1>phones-away</h1>
      <h2>{heading}</h2>
      {intro}
      <form key={step.kind} onSubmit={submit} noValidate={false}>
        {step.kind === 'new-password' ? (
          <>
            <section aria-labelledby="new-password-heading" class="enrol">
              <h3 id="new-password-heading">Choose a new password</h3>
              <p>
                Your password was reset. Choose a new one that only you know before you carry on. Use at least
                12 characters: a few unrelated words work well.
              </p>
            </section>
            <Input
              id="new-password"
              label="New password"
              type="password"
              autocomplete="new-password"
              required
              error={fields.password}
            />
            <Input
              id="repeat-password"
              label="New password again"
              type="password"
              autocomplete="new-password"
              required
              error={fields.repeat}
            />
          </>
        ) : step.kind === 'password' ? (
          <>
            <Input id="username" label="Username" autocomplete="username" required error={fields.username} />
            <Input
              id="password"
              label="Password"
              type="password"
              autocomplete="current-password"
              required
              error={fields.password}
            />
          </>
        ) : (
          <>
            {step.kind === 'enrol' && (
              <section aria-labelledby="enrol-heading" class="enrol">
                <h3 id="enrol-heading">Set up your second factor</h3>
                <p>
                  Your role needs a code from an authenticator app. Scan this code with the app, or type the
                  secret key below into it, then enter the six-digit code it shows.
                </p>
                <QrCode text={step.otpauthUri} label="QR code for your authenticator app" />
                <p>
                  Secret key:{' '}
                  <code class="secret" data-testid="totp-secret">
                    {step.secret}
                  </code>
                </p>
                <details>
                  <summary>Setup link for apps that accept one</summary>
                  <code class="uri">{step.otpauthUri}</code>
                </details>
              </section>
            )}
            <Input
              id="code"
              label="Six-digit code from your authenticator app"
              inputMode="numeric"
              autocomplete="one-time-code"
              pattern="[0-9 ]{6,7}"
              maxLength={7}
              required
              error={fields.code}
            />
          </>
        )}
        {error && (
          <p id="login-error" role="alert" class="error">
            <span aria-hidden="true">✗ </span>
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {step.kind === 'password'
            ? 'Sign in'
            : step.kind === 'new-password'
              ? 'Save new password and sign in'
              : 'Verify code'}
        </button>
        {step.kind !== 'password' && (
          <button type="button" onClick={() => setStep({ kind: 'password' })}>
            Start again
          </button>
        )}
      </form>
    </main>
  );
}
