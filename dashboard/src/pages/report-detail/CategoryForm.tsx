/** R3: set or change the safeguarding category, with a reason (recorded in the chronology). */
import { CATEGORIES } from '../../../../hub/incidents/workflow.js';
import { Select, TextArea } from '../../components/Field.js';
import { label } from '../../incident-text.js';
import { formOf, type StepFormProps, text } from './step.js';

export function CategoryForm({
  busy,
  fields,
  onStep,
  category,
}: StepFormProps & { category?: string | undefined }) {
  function submit(event: Event) {
    const { form, data } = formOf(event);
    onStep(
      'category',
      { category: text(data, 'new-category'), reason: text(data, 'category-reason') },
      'Category changed.',
      form,
    );
  }
  return (
    <form onSubmit={submit} aria-labelledby="category-heading">
      <h3 id="category-heading">{category ? 'Change the category' : 'Set the category'}</h3>
      <Select
        id="new-category"
        label="New category"
        options={CATEGORIES.filter((c) => c !== category).map((c) => [c, label(c)])}
        required
        error={fields.category}
      />
      <TextArea id="category-reason" label="Reason" required maxLength={500} rows={2} error={fields.reason} />
      <button type="submit" disabled={busy}>
        Save category
      </button>
    </form>
  );
}
