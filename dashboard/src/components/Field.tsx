/** A labelled form control with its server-side error beside it (aria-invalid + aria-describedby). */
import type { ComponentChildren, InputHTMLAttributes, TextareaHTMLAttributes } from 'preact';

interface FieldProps {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: string;
}

const describedBy = (id: string, error?: string, hint?: string) =>
  [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;

/** What every control carries so a screen reader hears its hint and its error. */
const controlAttrs = (id: string, error?: string, hint?: string) => ({
  id,
  name: id,
  'aria-invalid': error ? ('true' as const) : undefined,
  'aria-describedby': describedBy(id, error, hint),
});

function Wrap({ id, label, error, hint, children }: FieldProps & { children: ComponentChildren }) {
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      <label for={id}>{label}</label>
      {hint && (
        <p id={`${id}-hint`} class="hint">
          {hint}
        </p>
      )}
      {children}
      {error && (
        <p id={`${id}-error`} class="field-error">
          <span aria-hidden="true">✗ </span>
          {error}
        </p>
      )}
    </div>
  );
}

export function Input(props: FieldProps & Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'label'>) {
  const { id, label, error, hint, ...rest } = props;
  return (
    <Wrap id={id} label={label} error={error} {...(hint ? { hint } : {})}>
      <input {...controlAttrs(id, error, hint)} {...rest} />
    </Wrap>
  );
}

export function TextArea(
  props: FieldProps & Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'id' | 'label'>,
) {
  const { id, label, error, hint, ...rest } = props;
  return (
    <Wrap id={id} label={label} error={error} {...(hint ? { hint } : {})}>
      <textarea {...controlAttrs(id, error, hint)} {...rest} />
    </Wrap>
  );
}

export function Select(
  props: FieldProps & {
    options: readonly (string | [value: string, text: string])[];
    /** Controlled: pass with onChange. */
    value?: string;
    /** Uncontrolled: the option selected at first render; the form reads the choice on submit. */
    defaultValue?: string;
    required?: boolean;
    onChange?: (value: string) => void;
    empty?: string;
  },
) {
  const { id, label, error, hint, options, value, defaultValue, required, onChange, empty } = props;
  return (
    <Wrap id={id} label={label} error={error} {...(hint ? { hint } : {})}>
      <select
        {...controlAttrs(id, error, hint)}
        value={value}
        required={required}
        onChange={(e) => onChange?.((e.currentTarget as HTMLSelectElement).value)}
      >
        {empty !== undefined && <option value="">{empty}</option>}
        {options.map((o) => {
          const [v, t] = typeof o === 'string' ? [o, o] : o;
          return (
            <option key={v} value={v} selected={defaultValue !== undefined ? v === defaultValue : undefined}>
              {t}
            </option>
          );
        })}
      </select>
    </Wrap>
  );
}

/** A form-level message: errors are announced (role="alert"), successes politely (role="status"). */
export function Notice({ error, ok }: { error?: string | undefined; ok?: string | undefined }) {
  if (error)
    return (
      <p role="alert" class="error">
        <span aria-hidden="true">✗ </span>
        {error}
      </p>
    );
  if (ok)
    return (
      <p role="status" class="ok">
        <span aria-hidden="true">✓ </span>
        {ok}
      </p>
    );
  return null;
}
