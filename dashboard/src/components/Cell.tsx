/** A form control inside a table row: named by aria-label (the row and column), its server error right beneath it. */
import type { InputHTMLAttributes } from 'preact';

export function CellInput(
  props: { id: string; label: string; error?: string | undefined } & Omit<
    InputHTMLAttributes<HTMLInputElement>,
    'id' | 'label'
  >,
) {
  const { id, label, error, ...rest } = props;
  return (
    <div class={error ? 'invalid' : undefined}>
      <input
        id={id}
        aria-label={label}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        {...rest}
      />
      {error && (
        <p id={`${id}-error`} class="field-error">
          <span aria-hidden="true">✗ </span>
          {error}
        </p>
      )}
    </div>
  );
}

export function CellSelect(props: {
  id: string;
  label: string;
  error?: string | undefined;
  value: string;
  options: readonly (readonly [value: string, text: string])[];
  onChange: (value: string) => void;
}) {
  const { id, label, error, value, options, onChange } = props;
  return (
    <div class={error ? 'invalid' : undefined}>
      <select
        id={id}
        aria-label={label}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        value={value}
        onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        {options.map(([v, t]) => (
          <option key={v} value={v}>
            {t}
          </option>
        ))}
      </select>
      {error && (
        <p id={`${id}-error`} class="field-error">
          <span aria-hidden="true">✗ </span>
          {error}
        </p>
      )}
    </div>
  );
}
