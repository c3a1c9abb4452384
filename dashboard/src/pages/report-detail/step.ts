/** What an incident page's step forms share: the step they send, and how they send it. */
export type StepPath = 'acknowledge' | 'note' | 'category' | 'close' | 'route';

export interface StepFormProps {
  busy: boolean;
  /** The server's field errors for this form (empty when another form was sent last). */
  fields: Record<string, string>;
  /** Sends the step; on success the form (if given) is cleared. */
  onStep: (path: StepPath, body: unknown, done: string, form?: HTMLFormElement) => void;
}

/** The form that was submitted, with its data. */
export function formOf(event: Event): { form: HTMLFormElement; data: FormData } {
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  return { form, data: new FormData(form) };
}

export const text = (data: FormData, name: string) => String(data.get(name) ?? '');
