/** An incident's chronology, oldest first (R3): every step with who took it; free text is rendered as text. */
import { fmtDateTime, who } from '../../format.js';
import { ACTION_TEXT, AGENCY_TEXT, label } from '../../incident-text.js';
import type { IncidentStep } from '../../types.js';

export function Chronology({ steps }: { steps: IncidentStep[] }) {
  return (
    <ol class="chronology" data-testid="chronology">
      {steps.map((s, i) => (
        <li key={i}>
          <p>
            <time dateTime={new Date(s.at).toISOString()}>{fmtDateTime(s.at)}</time> –{' '}
            <strong>{ACTION_TEXT[s.action]}</strong> by {who(s.by)}
            {s.routeTo && ` → ${s.routeTo}`}
            {s.category && ` · category: ${label(s.category)}`}
          </p>
          {s.note !== undefined && <p class="note">{s.note}</p>}
          {s.outcome !== undefined && <p class="note">Outcome: {s.outcome}</p>}
          {s.referral && (
            <p>
              Referral: {AGENCY_TEXT[s.referral.agency] ?? s.referral.agency} on {s.referral.date}
              {s.referral.reference && ` (ref. ${s.referral.reference})`}
            </p>
          )}
        </li>
      ))}
    </ol>
  );
}
