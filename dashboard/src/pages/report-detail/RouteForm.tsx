/** R6: route the incident to another role, with an optional reason. */
import { ROUTES } from '../../../../hub/incidents/workflow.js';
import { Select, TextArea } from '../../components/Field.js';
import { formOf, type StepFormProps, text } from './step.js';

export function RouteForm({ busy, fields, onStep, routeTo }: StepFormProps & { routeTo: string }) {
  function submit(event: Event) {
    const { form, data } = formOf(event);
    const reason = text(data, 'route-text').trim();
    onStep(
      'route',
      { to: text(data, 'route-to'), ...(reason ? { text: reason } : {}) },
      'Incident routed.',
      form,
    );
  }
  return (
    <form onSubmit={submit} aria-labelledby="route-heading" class="route">
      <h3 id="route-heading">Route</h3>
      <p class="hint">
        A concern about staff goes to the Headteacher; about the Headteacher, to the chair of governors.
      </p>
      <Select
        id="route-to"
        label="Route to"
        options={ROUTES.filter((r) => r !== routeTo)}
        required
        error={fields.to}
      />
      <TextArea id="route-text" label="Reason (optional)" maxLength={4000} rows={2} error={fields.text} />
      <button type="submit" disabled={busy}>
        Route
      </button>
    </form>
  );
}
