/**
 * The governor and Ofsted evidence pack (R5) for a date range: compliance by room and week, exemptions granted
 * (P6), incidents by category with time to acknowledge (R3). A term from the timetable fills in the range. Printable
 * (print CSS: no navigation, tables whole) and saved as PDF from the browser's print dialog; the incident figures are
 * also a CSV. No free text of any incident is included (D1, R4). Governors count every incident (R5).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../api.js';
import { roomWeeks } from '../compliance-data.js';
import { Input, Notice, Select } from '../components/Field.js';
import { Table } from '../components/Table.js';
import { addDays, count, fmtAge, fmtDateTime, isoDate, pct, who } from '../format.js';
import { useLive } from '../live.js';
import { useSchool } from '../school.js';
import type { ComplianceResult, ExemptionView, IncidentStatsView } from '../types.js';

export function EvidencePack({ query }: { query: URLSearchParams }) {
  const live = useLive();
  const today = isoDate(new Date());
  const from = query.get('from') ?? addDays(today, -90);
  const to = query.get('to') ?? today;
  const { policy, roomName, error: schoolError } = useSchool();
  const [weeks, setWeeks] = useState<ComplianceResult | null>(null);
  const [exemptions, setExemptions] = useState<ExemptionView[] | null>(null);
  const [stats, setStats] = useState<IncidentStatsView | null>(null);
  const [error, setError] = useState('');
  const [generated] = useState(Date.now());

  useEffect(() => {
    setError('');
    void (async () => {
      try {
        setWeeks(await api<ComplianceResult>('GET', `/api/compliance?level=week&from=${from}&to=${to}`));
        const all = await api<ExemptionView[]>('GET', `/api/exemptions?from=${from}&to=${to}`);
        setExemptions(all.filter((e) => e.grantedAt !== undefined));
        // Figures only, counted by the hub over the incidents this role may see (R5, R6).
        if (live.may('incidents:read'))
          setStats(await api<IncidentStatsView>('GET', `/api/evidence/incidents?from=${from}&to=${to}`));
      } catch (e) {
        setError(errorText(e));
      }
    })();
  }, [from, to]);

  function submit(event: Event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    location.hash = `#/evidence?from=${String(data.get('pack-from'))}&to=${String(data.get('pack-to'))}`;
  }
  const terms = policy?.timetable.terms ?? [];
  const term = terms.find((t) => t.start === from && t.end === to);
  function chooseTerm(name: string) {
    const t = terms.find((x) => x.name === name);
    if (t) location.hash = `#/evidence?from=${t.start}&to=${t.end}`;
  }

  const periodName = (id: string) => policy?.timetable.periods.find((p) => p.id === id)?.name ?? id;
  const matrix = weeks ? roomWeeks(weeks.rows) : null;
  const categories = stats?.byCategory ?? null;

  return (
    <article class="evidence" aria-labelledby="evidence-heading">
      <h1 id="evidence-heading">Evidence pack: phones and online safety</h1>
      <p class="meta">
        {policy?.name ?? ''} · {from} to {to} · generated {fmtDateTime(generated)} by {live.session.username}
      </p>
      {terms.length > 0 && (
        <form class="filters no-print" aria-label="Pick a term" onSubmit={(e) => e.preventDefault()}>
          <Select
            id="pack-term"
            label="Term"
            value={term?.name ?? ''}
            empty="Choose a term…"
            options={terms.map((t) => [t.name, `${t.name} (${t.start} to ${t.end})`] as const)}
            onChange={chooseTerm}
          />
        </form>
      )}
      <form class="filters no-print" onSubmit={submit} aria-label="Date range" key={`${from}-${to}`}>
        <Input id="pack-from" label="From" type="date" defaultValue={from} required />
        <Input id="pack-to" label="To" type="date" defaultValue={to} required />
        <button type="submit">Update</button>{' '}
        <button type="button" class="primary" onClick={() => print()}>
          Print or save as PDF
        </button>
      </form>
      <Notice error={error || schoolError} />

      <section aria-labelledby="pack-compliance">
        <h2 id="pack-compliance">1. Compliance by room and week</h2>
        <p>
          Share of formal school time due (registration, assemblies and lessons) in which each room's locker
          was locked and closed. Exempt time is not due.
        </p>
        {!matrix ? (
          <p>Loading…</p>
        ) : matrix.rooms.length === 0 ? (
          <p data-testid="pack-no-compliance">No lessons recorded in this range.</p>
        ) : (
          <Table
            caption="Compliance by room (rows) and week beginning (columns)"
            columns={['Room', ...matrix.weeks.map((w) => `w/b ${isoDate(new Date(w))}`), 'Range']}
          >
            {matrix.rooms.map((r) => (
              <tr key={r.room}>
                <th scope="row">{roomName(r.room)}</th>
                {r.cells.map((c, i) => (
                  <td key={i}>{pct(c)}</td>
                ))}
                <td>{pct(r.total)}</td>
              </tr>
            ))}
          </Table>
        )}
      </section>

      <section aria-labelledby="pack-exemptions">
        <h2 id="pack-exemptions">2. Exemptions granted</h2>
        {!exemptions ? (
          <p>Loading…</p>
        ) : exemptions.length === 0 ? (
          <p>No exemptions were granted in this range.</p>
        ) : (
          <Table
            caption="Authorised phone use granted by the Headteacher"
            columns={['Date', 'Room', 'Period', 'Reason', 'Granted by', 'Status']}
          >
            {exemptions.map((e) => (
              <tr key={e.id}>
                <td>{e.date}</td>
                <td>{roomName(e.room)}</td>
                <td>{periodName(e.period)}</td>
                <td>{e.reason}</td>
                <td>{who(e.grantedBy ?? '')}</td>
                <td>{e.status === 'revoked' ? `Withdrawn by ${who(e.revokedBy ?? '')}` : e.status}</td>
              </tr>
            ))}
          </Table>
        )}
      </section>

      <section aria-labelledby="pack-incidents">
        <h2 id="pack-incidents">3. Incidents by category and time to acknowledge</h2>
        {live.may('incidents:read') && (
          <p class="no-print">
            <a href={`/api/evidence/incidents.csv?from=${from}&to=${to}`} download>
              Download incident figures (CSV)
            </a>
          </p>
        )}
        {!live.may('incidents:read') ? (
          <p>
            Incident figures are included when the pack is produced by the coordinator, DSL, Headteacher or a
            governor.
          </p>
        ) : !categories ? (
          <p>Loading…</p>
        ) : categories.length === 0 ? (
          <p>No incidents in this range.</p>
        ) : (
          <>
            {stats && (
              <p data-testid="pack-incident-totals">
                {count(stats.total, 'incident')}: {count(stats.byKind.report, 'pupil report')},{' '}
                {count(stats.byKind.tamper, 'tamper alert')}. Acknowledged {stats.acknowledge.count}; median
                time to acknowledge {fmtAge(stats.acknowledge.medianMs)}, longest{' '}
                {fmtAge(stats.acknowledge.maxMs)}.
              </p>
            )}
            <Table
              caption="Incidents received in the range; no incident's content is included"
              columns={['Category', 'Incidents', 'Acknowledged', 'Median time to acknowledge', 'Longest']}
              testId="pack-incidents"
            >
              {categories.map((c) => (
                <tr key={c.category}>
                  <th scope="row">{c.category}</th>
                  <td>{c.count}</td>
                  <td>{c.acknowledged}</td>
                  <td>{fmtAge(c.medianAckMs)}</td>
                  <td>{fmtAge(c.longestAckMs)}</td>
                </tr>
              ))}
            </Table>
          </>
        )}
      </section>
    </article>
  );
}
