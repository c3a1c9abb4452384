/** R3: close with an outcome; an incident with no category yet is given one as it closes. */
import { CATEGORIES } from '../../../../hub/incidents/workflow.js';
import { Select, TextArea } from '../../components/Field.js';
import { label } from '../../incident-text.js';
import { formOf, type StepFormProps, text } from './step.js';

export function CloseForm({
  busy,
  fields,
  onStep,
  category,
}: StepFormProps & { category?: string | undefined }) {
  function submit(event: Event) {
    const { form, data } = formOf(event);
    const chosen = text(data, 'category');
    onStep(
      'close',
      { outcome: text(data, 'outcome'), ...(chosen ? { category: chosen } : {}) },
      'Incident closed.',
      form,
    );
  }
  return (
    <form onSubmit={submit} aria-labelledby="close-heading">
      <h3 id="close-heading">Close</h3>
      <TextArea id="outcome" label="Outcome" required maxLength={2000} rows={3} error={fields.outcome} />
      {!category && (
        <Select
          id="category"
          label="Safeguarding category"
          options={CATEGORIES.map((c) => [c, label(c)])}
          empty="Choose a category"
          required
          error={fields.category}
        />
      )}
      <button type="submit" class="primary" disabled={busy}>
        Close incident
      </button>
    </form>
  );
}
