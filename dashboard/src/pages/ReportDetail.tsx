/**
 * One incident (R3, R4, R6): its chronology, oldest first, and the next workflow steps: acknowledge, note an action
 * (with an optional external referral), route, close with an outcome and category; hand-off export. Every free text
 * is rendered as text by Preact (escaped), never as HTML. The step forms are in report-detail/; this page loads the
 * incident, sends their steps through one useAction (one busy state, one notice) and keeps each form's field errors
 * with that form.
 */
import { useEffect, useState } from 'preact/hooks';
import { useAction } from '../action.js';
import { api, errorText } from '../api.js';
import { Notice } from '../components/Field.js';
import { STATUS_TEXT } from '../incident-text.js';
import { useLive } from '../live.js';
import { href } from '../router.js';
import type { IncidentDetail, IncidentSummary } from '../types.js';
import { AcknowledgeForm } from './report-detail/AcknowledgeForm.js';
import { CategoryForm } from './report-detail/CategoryForm.js';
import { Chronology } from './report-detail/Chronology.js';
import { CloseForm } from './report-detail/CloseForm.js';
import { IncidentFacts } from './report-detail/IncidentFacts.js';
import { NoteForm } from './report-detail/NoteForm.js';
import { RouteForm } from './report-detail/RouteForm.js';
import type { StepPath } from './report-detail/step.js';

/** A step answers with the incident as it now is, so nothing needs reloading after it. */
const nothingToReload = async () => {};

export function ReportDetail({ id }: { id: string }) {
  const live = useLive();
  const [incident, setIncident] = useState<IncidentDetail | null>(null);
  const { busy, error, ok, fields, setError, act } = useAction(nothingToReload);
  // Field errors belong to the form that was sent (note and route both have a `text`).
  const [sent, setSent] = useState<StepPath | null>(null);
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

  function step(path: StepPath, body: unknown, done: string, form?: HTMLFormElement) {
    if (!incident) return;
    setSent(path);
    void act(
      async () => {
        const next = await api<IncidentDetail>('POST', `/api/incidents/${incident.id}/${path}`, body);
        setIncident({ ...next, ageMs: incident.ageMs });
        live.mergeIncident(next as IncidentSummary);
        setReferral(false);
      },
      done,
      form,
    );
  }
  const formProps = (path: StepPath) => ({ busy, fields: sent === path ? fields : {}, onStep: step });

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
      <IncidentFacts incident={incident} />
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
            <AcknowledgeForm {...formProps('acknowledge')} />
          ) : (
            <div class="forms">
              <NoteForm {...formProps('note')} referral={referral} setReferral={setReferral} />
              <CategoryForm {...formProps('category')} category={incident.category} />
              {mayRouteOrClose && <CloseForm {...formProps('close')} category={incident.category} />}
            </div>
          )}
          {live.may('incidents:route') && mayRouteOrClose && (
            <RouteForm {...formProps('route')} routeTo={incident.routeTo ?? 'coordinator'} />
          )}
        </>
      )}
    </section>
  );
}
