/** What an incident is (R3): kind, room, urgency, when it came, who has it and its category, in plain words. */
import { fmtAge, fmtDateTime } from '../../format.js';
import { label, tamperText } from '../../incident-text.js';
import type { IncidentDetail } from '../../types.js';

export function IncidentFacts({ incident }: { incident: IncidentDetail }) {
  return (
    <dl class="facts">
      <dt>Kind</dt>
      <dd>
        {incident.kind === 'report' ? 'Report button (anonymous)' : `Tamper alert: ${tamperText(incident)}`}
      </dd>
      <dt>Room</dt>
      <dd>{incident.room}</dd>
      <dt>Urgency</dt>
      <dd>{incident.urgency === 'urgent' ? '‼ Urgent' : 'Normal'}</dd>
      <dt>Received</dt>
      <dd>
        {fmtDateTime(incident.receivedAt)} ({fmtAge(incident.ageMs)} ago)
      </dd>
      <dt>With</dt>
      <dd>{incident.routeTo ?? 'coordinator'}</dd>
      {incident.category && (
        <>
          <dt>Category</dt>
          <dd>{label(incident.category)}</dd>
        </>
      )}
    </dl>
  );
}
