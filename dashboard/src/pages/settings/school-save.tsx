/**
 * What the school model editors share: saving with the hub's `path: message` problems kept per field (those a form
 * does not place beside a control are listed under it), the section version a save is based on, and new row ids.
 */
import { useAction } from '../../action.js';
import { Notice } from '../../components/Field.js';
import type { PolicyView } from '../../types.js';

/** Saving with errors kept per field; `placed` says which field keys the form shows beside a control. */
export function useSave(onSaved: () => Promise<void>, placed: RegExp) {
  const { busy, error, ok, fields, act } = useAction(onSaved);
  const save = (call: () => Promise<unknown>, done: string) => act(call, done);
  const rest = Object.entries(fields).filter(([k]) => !placed.test(k));
  const notice = (
    <>
      <Notice error={error} ok={ok} />
      {rest.length > 0 && (
        <ul class="field-error" data-testid="other-errors">
          {rest.map(([k, m]) => (
            <li key={k}>{k === '_' ? m : `${k}: ${m}`}</li>
          ))}
        </ul>
      )}
    </>
  );
  return { busy, fields, save, notice };
}

export const newId = (prefix: string) => `${prefix}-${Date.now().toString(36)}`;

/** The section's version this page loaded: the hub refuses the save (409) if someone else has saved it since. */
export const ifMatch = (
  policy: PolicyView,
  section: keyof NonNullable<PolicyView['versions']>,
): Record<string, string> => {
  const version = policy.versions?.[section];
  return version ? { 'if-match': `"${version}"` } : {};
};
