/** R3, R4: note an action taken, optionally with an external referral (agency, date, their reference). */
import { REFERRAL_AGENCIES } from '../../../../hub/incidents/workflow.js';
import { Input, Select, TextArea } from '../../components/Field.js';
import { isoDate } from '../../format.js';
import { AGENCY_TEXT } from '../../incident-text.js';
import { formOf, type StepFormProps, text } from './step.js';

export function NoteForm({
  busy,
  fields,
  onStep,
  referral,
  setReferral,
}: StepFormProps & { referral: boolean; setReferral: (on: boolean) => void }) {
  function submit(event: Event) {
    const { form, data } = formOf(event);
    const reference = text(data, 'referral-reference').trim();
    onStep(
      'note',
      {
        text: text(data, 'text'),
        ...(referral
          ? {
              referral: {
                agency: text(data, 'referral-agency'),
                date: text(data, 'referral-date'),
                ...(reference ? { reference } : {}),
              },
            }
          : {}),
      },
      'Action noted.',
      form,
    );
  }
  return (
    <form onSubmit={submit} aria-labelledby="note-heading">
      <h3 id="note-heading">Note an action</h3>
      <TextArea
        id="text"
        label="Action taken"
        hint="Never name a pupil."
        required
        maxLength={4000}
        rows={4}
        error={fields.text}
      />
      <label class="check">
        <input
          type="checkbox"
          checked={referral}
          onChange={(e) => setReferral((e.currentTarget as HTMLInputElement).checked)}
        />{' '}
        Record an external referral
      </label>
      {referral && (
        <fieldset>
          <legend>Referral</legend>
          <Select
            id="referral-agency"
            label="Agency"
            options={REFERRAL_AGENCIES.map((a) => [a, AGENCY_TEXT[a] ?? a])}
            required
            error={fields['referral.agency']}
          />
          <Input
            id="referral-date"
            label="Date referred"
            type="date"
            required
            defaultValue={isoDate(new Date())}
            error={fields['referral.date']}
          />
          <Input
            id="referral-reference"
            label="Their reference (optional)"
            maxLength={64}
            error={fields['referral.reference']}
          />
        </fieldset>
      )}
      <button type="submit" disabled={busy}>
        Save note
      </button>
    </form>
  );
}
