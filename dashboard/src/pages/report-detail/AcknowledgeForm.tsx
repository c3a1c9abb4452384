/** R3: acknowledge a new incident, optionally with its category; a concern about staff is routed as it is (R6). */
import { CATEGORIES } from '../../../../hub/incidents/workflow.js';
import { Select } from '../../components/Field.js';
import { label } from '../../incident-text.js';
import { formOf, type StepFormProps, text } from './step.js';

export function AcknowledgeForm({ busy, fields, onStep }: StepFormProps) {
  function submit(event: Event) {
    const { data } = formOf(event);
    const category = text(data, 'ack-category');
    const about = text(data, 'ack-about');
    onStep(
      'acknowledge',
      { ...(category ? { category } : {}), ...(about ? { aboutStaff: about } : {}) },
      about ? 'Acknowledged and routed.' : 'Acknowledged.',
    );
  }
  return (
    <form onSubmit={submit} aria-labelledby="ack-heading">
      <h3 id="ack-heading">Acknowledge</h3>
      <Select
        id="ack-category"
        label="Safeguarding category (optional, can be changed later)"
        options={CATEGORIES.map((c) => [c, label(c)])}
        empty="Not yet known"
        error={fields.category}
      />
      <Select
        id="ack-about"
        label="Is this about a member of staff?"
        options={[
          ['staff', 'Yes, a member of staff: route to the Headteacher'],
          ['head', 'Yes, the Headteacher: route to the chair of governors'],
        ]}
        empty="No"
        error={fields.aboutStaff}
      />
      <button type="submit" class="primary" disabled={busy}>
        Acknowledge
      </button>
    </form>
  );
}
