/**
 * One incident (R3, R4, R6): its chronology, oldest first, and the next workflow steps: acknowledge, note an action
 * (with an optional external referral), route, close with an outcome and category; hand-off export. Every free text
 * is rendered as text by Preact (escaped), never as HTML.
 */
import { useEffect, useState } from 'preact/hooks';
import { CATEGORIES, REFERRAL_AGENCIES, ROUTES } from '../../../hub/incidents/workflow.js';
import { api, errorText, fieldErrors } from '../api.js';
import { Input, Notice, Select, TextArea } from '../components/Field.js';
import { fmtAge, fmtDateTime, isoDate, who } from '../format.js';
import { useLive } from '../live.js';
import { href } from '../router.js';
import type { IncidentDetail, IncidentStep, IncidentSummary } from '../types.js';
import { STATUS_TEXT } from './Reports.js';

const ACTION_TEXT: Record<IncidentStep['action'], string> = {
  reported: 'Reported',
  acknowledged: 'Acknowledged',
  categorised: 'Category changed',
  'action-noted': 'Action noted',
  escalated: 'Escalated',
  routed: 'Routed',
  closed: 'Closed',
};
const AGENCY_TEXT: Record<string, string> = {
  police: 'Police',
  ceop: 'CEOP',
  iwf: 'Internet Watch Foundation',
  lado: 'LADO',
  'childrens-social-care': "Children's social care",
};
const label = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).replaceAll('-', ' ');

function Chronology({ steps }: { steps: IncidentStep[] }) {
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

export function ReportDetail({ id }: { id: string }) {
  const live = useLive();
  const [incident, setIncident] = useState<IncidentDetail | null>(null);
  const [error, setError] = useState('');
  const [ok, setOk] = useState('');
  // Field errors belong to the form that was sent (note and route both have a `text`).
  const [errors, setErrors] = useState<{ form: string; fields: Record<string, string> }>({
    form: '',
    fields: {},
  });
  const fieldsOf = (form: string) => (errors.form === form ? errors.fields : {});
  const [busy, setBusy] = useState(false);
  const [referral, setReferral] = useState(false);

  async function load() {
    try {
      setIncident(await api<IncidentDetail>('GET', `/api/incidents/${encodeURIComponent(id)}`));
    } catch (e) {
      setError(errorText(e));
    }
  }
  useEffect(() => {
    void load();
  }, [id]);
  // Another member of staff acting on the same incident: reload when the stream says it changed.
  const streamed = live.incidents?.find((i) => i.id === id || ('ref' in i && i.ref === id));
  useEffect(() => {
    if (streamed && incident && streamed.status !== incident.status) void load();
  }, [streamed?.status]);

  async function step(path: string, body: unknown, done: string, form?: HTMLFormElement) {
    if (!incident) return;
    setBusy(true);
    setError('');
    setOk('');
    setErrors({ form: '', fields: {} });
    try {
      const next = await api<IncidentDetail>('POST', `/api/incidents/${incident.id}/${path}`, body);
      setIncident({ ...next, ageMs: incident.ageMs });
      live.mergeIncident(next as IncidentSummary);
      setOk(done);
      form?.reset();
      setReferral(false);
    } catch (e) {
      setError(errorText(e));
      setErrors({ form: path, fields: fieldErrors(e) });
    } finally {
      setBusy(false);
    }
  }

  function submitNote(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const reference = String(data.get('referral-reference') ?? '').trim();
    void step(
      'note',
      {
        text: String(data.get('text') ?? ''),
        ...(referral
          ? {
              referral: {
                agency: String(data.get('referral-agency') ?? ''),
                date: String(data.get('referral-date') ?? ''),
                ...(reference ? { reference } : {}),
              },
            }
          : {}),
      },
      'Action noted.',
      form,
    );
  }

  function submitClose(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const category = String(data.get('category') ?? '');
    void step(
      'close',
      { outcome: String(data.get('outcome') ?? ''), ...(category ? { category } : {}) },
      'Incident closed.',
      form,
    );
  }

  function submitAcknowledge(event: Event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const category = String(data.get('ack-category') ?? '');
    const about = String(data.get('ack-about') ?? '');
    void step(
      'acknowledge',
      { ...(category ? { category } : {}), ...(about ? { aboutStaff: about } : {}) },
      about ? 'Acknowledged and routed.' : 'Acknowledged.',
    );
  }

  function submitCategory(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    void step(
      'category',
      { category: String(data.get('new-category') ?? ''), reason: String(data.get('category-reason') ?? '') },
      'Category changed.',
      form,
    );
  }

  function submitRoute(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const text = String(data.get('route-text') ?? '').trim();
    void step(
      'route',
      { to: String(data.get('route-to') ?? ''), ...(text ? { text } : {}) },
      'Incident routed.',
      form,
    );
  }

  if (!incident)
    return (
      <section aria-labelledby="incident-heading">
        <h1 id="incident-heading">Incident {id}</h1>
        <Notice error={error} />
        {!error && <p>Loading…</p>}
        <p>
          <a href={href('reports')}>Back to the inbox</a>
        </p>
      </section>
    );

  const open = incident.status !== 'closed';
  const canWrite = live.may('incidents:write');
  // A concern with the governors is theirs alone to route or close.
  const withGovernors = incident.routeTo === 'governor';
  const isGovernor = live.session.roles.includes('governor');
  const mayRouteOrClose = !withGovernors || isGovernor;
  return (
    <section aria-labelledby="incident-heading">
      <p>
        <a href={href('reports')}>← Back to the inbox</a>
      </p>
      <h1 id="incident-heading">
        Incident {incident.ref}{' '}
        <span class={`status status-${incident.status}`} data-testid="incident-status">
          {STATUS_TEXT[incident.status]}
        </span>
      </h1>
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
      <Notice error={error} ok={ok} />
      <h2>Chronology</h2>
      <Chronology steps={incident.steps} />
      <h2>Export</h2>
      <p>
        Hand-off record:{' '}
        <a href={`/api/incidents/${incident.id}/export?format=text`} download>
          text
        </a>{' '}
        ·{' '}
        <a href={`/api/incidents/${incident.id}/export?format=csv`} download>
          CSV
        </a>
      </p>
      {open && canWrite && (
        <>
          <h2>Next step</h2>
          {incident.status === 'reported' ? (
            <form onSubmit={submitAcknowledge} aria-labelledby="ack-heading">
              <h3 id="ack-heading">Acknowledge</h3>
              <Select
                id="ack-category"
                label="Safeguarding category (optional, can be changed later)"
                options={CATEGORIES.map((c) => [c, label(c)])}
                empty="Not yet known"
                error={fieldsOf('acknowledge').category}
              />
              <Select
                id="ack-about"
                label="Is this about a member of staff?"
                options={[
                  ['staff', 'Yes, a member of staff: route to the Headteacher'],
                  ['head', 'Yes, the Headteacher: route to the chair of governors'],
                ]}
                empty="No"
                error={fieldsOf('acknowledge').aboutStaff}
              />
              <button type="submit" class="primary" disabled={busy}>
                Acknowledge
              </button>
            </form>
          ) : (
            <div class="forms">
              <form onSubmit={submitNote} aria-labelledby="note-heading">
                <h3 id="note-heading">Note an action</h3>
                <TextArea
                  id="text"
                  label="Action taken"
                  hint="Never name a pupil."
                  required
                  maxLength={4000}
                  rows={4}
                  error={fieldsOf('note').text}
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
                      error={fieldsOf('note')['referral.agency']}
                    />
                    <Input
                      id="referral-date"
                      label="Date referred"
                      type="date"
                      required
                      defaultValue={isoDate(new Date())}
                      error={fieldsOf('note')['referral.date']}
                    />
                    <Input
                      id="referral-reference"
                      label="Their reference (optional)"
                      maxLength={64}
                      error={fieldsOf('note')['referral.reference']}
                    />
                  </fieldset>
                )}
                <button type="submit" disabled={busy}>
                  Save note
                </button>
              </form>
              <form onSubmit={submitCategory} aria-labelledby="category-heading">
                <h3 id="category-heading">
                  {incident.category ? 'Change the category' : 'Set the category'}
                </h3>
                <Select
                  id="new-category"
                  label="New category"
                  options={CATEGORIES.filter((c) => c !== incident.category).map((c) => [c, label(c)])}
                  required
                  error={fieldsOf('category').category}
                />
                <TextArea
                  id="category-reason"
                  label="Reason"
                  required
                  maxLength={500}
                  rows={2}
                  error={fieldsOf('category').reason}
                />
                <button type="submit" disabled={busy}>
                  Save category
                </button>
              </form>
              {mayRouteOrClose && (
                <form onSubmit={submitClose} aria-labelledby="close-heading">
                  <h3 id="close-heading">Close</h3>
                  <TextArea
                    id="outcome"
                    label="Outcome"
                    required
                    maxLength={2000}
                    rows={3}
                    error={fieldsOf('close').outcome}
                  />
                  {!incident.category && (
                    <Select
                      id="category"
                      label="Safeguarding category"
                      options={CATEGORIES.map((c) => [c, label(c)])}
                      empty="Choose a category"
                      required
                      error={fieldsOf('close').category}
                    />
                  )}
                  <button type="submit" class="primary" disabled={busy}>
                    Close incident
                  </button>
                </form>
              )}
            </div>
          )}
          {live.may('incidents:route') && mayRouteOrClose && (
            <form onSubmit={submitRoute} aria-labelledby="route-heading" class="route">
              <h3 id="route-heading">Route</h3>
              <p class="hint">
                A concern about staff goes to the Headteacher; about the Headteacher, to the chair of
                governors.
              </p>
              <Select
                id="route-to"
                label="Route to"
                options={ROUTES.filter((r) => r !== (incident.routeTo ?? 'coordinator'))}
                required
                error={fieldsOf('route').to}
              />
              <TextArea
                id="route-text"
                label="Reason (optional)"
                maxLength={4000}
                rows={2}
                error={fieldsOf('route').text}
              />
              <button type="submit" disabled={busy}>
                Route
              </button>
            </form>
          )}
        </>
      )}
    </section>
  );
}

const TAMPER_TEXT: Record<string, string> = {
  'door-opened-while-locked': 'the locker door was opened while locked',
  'button-held': 'the report button was held down',
  'unplugged-in-lesson': 'the device was unplugged in a lesson',
  forced: 'the locker was forced',
};

/** Plain words for staff: the device's reason code never shows as it is. */
function tamperText(incident: IncidentDetail): string {
  if (incident.tamperReason === 'report-flood') {
    const n = incident.flood?.reports ?? 1;
    return `the report button sent far more reports than anyone could press (${n} collapsed into this alert; check the device)`;
  }
  return TAMPER_TEXT[incident.tamperReason ?? ''] ?? incident.tamperReason ?? '';
}
