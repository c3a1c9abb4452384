/**
 * A page's write action: the form-level error or success message (shown by <Notice>), the server's field errors,
 * busy while it runs. On success the form (if given) is cleared and the page reloads its data; the success message
 * is set first, so it shows while the reload runs.
 */
import { useState } from 'preact/hooks';
import { errorText, fieldErrors } from './api.js';

export function useAction(reload: () => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [ok, setOk] = useState('');
  const [fields, setFields] = useState<Record<string, string>>({});
  async function act(call: () => Promise<unknown>, done: string, form?: HTMLFormElement) {
    setBusy(true);
    setError('');
    setOk('');
    setFields({});
    try {
      await call();
      setOk(done);
      form?.reset();
      await reload();
    } catch (e) {
      setError(errorText(e));
      setFields(fieldErrors(e));
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, ok, fields, setError, act };
}
