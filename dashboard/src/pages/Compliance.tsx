/**
 * Compliance (D5, R5): per room, by lesson, day, week or term, as a chart read at a glance and a table with every
 * number; filters; CSV export; a link to the printable evidence pack. Per room and lesson, never per pupil.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, errorText, fieldErrors } from '../api.js';
import { chartData, rowTime } from '../compliance-data.js';
import { Chart } from '../components/Chart.js';
import { Input, Notice, Select } from '../components/Field.js';
import { Table } from '../components/Table.js';
import { addDays, fmtDateTime, isoDate, pct } from '../format.js';
import { useSchool } from '../school.js';
import type { ComplianceResult } from '../types.js';

const LEVELS = [
  ['lesson', 'Lesson'],
  ['day', 'Day'],
  ['week', 'Week'],
  ['term', 'Term'],
] as const;

export function Compliance() {
  const today = isoDate(new Date());
  const [filters, setFilters] = useState({ level: 'day', from: addDays(today, -27), to: today, room: '' });
  const [result, setResult] = useState<ComplianceResult | null>(null);
  const { policy, roomName } = useSchool();
  const rooms = policy?.rooms ?? [];
  const [error, setError] = useState('');
  const [fields, setFields] = useState<Record<string, string>>({});

  const query = new URLSearchParams({
    level: filters.level,
    from: filters.from,
    to: filters.to,
    ...(filters.room ? { room: filters.room } : {}),
  }).toString();

  async function load() {
    setError('');
    setFields({});
    try {
      setResult(await api<ComplianceResult>('GET', `/api/compliance?${query}`));
    } catch (e) {
      setError(errorText(e));
      setFields(fieldErrors(e));
    }
  }
  function submit(event: Event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    setFilters({
      level: String(data.get('level')),
      from: String(data.get('from')),
      to: String(data.get('to')),
      room: String(data.get('room') ?? ''),
    });
  }
  useEffect(() => {
    void load();
  }, [query]);

  const chart = useMemo(() => (result ? chartData(result.rows) : null), [result]);
  const rows = result
    ? [...result.rows].sort((a, b) => rowTime(a) - rowTime(b) || a.room.localeCompare(b.room))
    : [];

  return (
    <section aria-labelledby="compliance-heading">
      <h1 id="compliance-heading">Compliance</h1>
      <p>
        The share of each lesson's due time that the room's locker was locked and closed (exempt time is not
        due).
      </p>
      <form class="filters" onSubmit={submit} aria-label="Filters">
        <Select
          id="level"
          label="By"
          options={LEVELS.map(([v, t]) => [v, t])}
          defaultValue={filters.level}
          error={fields.level}
        />
        <Input id="from" label="From" type="date" defaultValue={filters.from} required error={fields.from} />
        <Input id="to" label="To" type="date" defaultValue={filters.to} required error={fields.to} />
        <Select
          id="room"
          label="Room"
          options={rooms.map((r) => [r.id, r.name])}
          empty="All rooms"
          defaultValue={filters.room}
          error={fields.room}
        />
        <button type="submit" class="primary">
          Show
        </button>
      </form>
      <Notice error={error} />
      <p class="exports">
        <a href={`/api/compliance.csv?${query}`} download>
          Download CSV
        </a>{' '}
        · <a href={`#/evidence?from=${filters.from}&to=${filters.to}`}>Governor and Ofsted evidence pack</a>
      </p>
      {result && chart && (
        <>
          {rows.length === 0 ? (
            <p data-testid="no-compliance">
              No compliance recorded for these dates yet: lessons are recorded as they end.
            </p>
          ) : (
            <Chart
              label={`Line chart of compliance by ${filters.level} per room from ${result.from} to ${result.to}; the table below has every value.`}
              times={chart.times}
              series={chart.series.map((s) => ({ ...s, label: roomName(s.label) }))}
              yLabel="Locked when due"
            />
          )}
          <Table
            caption={
              <>
                Compliance by {filters.level}, {result.from} to {result.to}
              </>
            }
            columns={[
              filters.level === 'lesson' ? 'Lesson start' : 'From',
              'Room',
              filters.level === 'lesson' ? 'Period' : 'Periods',
              'Due (min)',
              'Locked (min)',
              'Exempt (min)',
              'Offline (min)',
              'Breach (min)',
              'Tamper',
              'Compliance',
            ]}
          >
            {rows.map((r, i) => (
              <tr key={i}>
                <td>
                  {filters.level === 'lesson' ? fmtDateTime(rowTime(r)) : isoDate(new Date(rowTime(r)))}
                </td>
                <th scope="row">{roomName(r.room)}</th>
                <td>{filters.level === 'lesson' ? (r.period ?? '–') : (r.lessons ?? '–')}</td>
                <td>{r.due_min ?? '–'}</td>
                <td>{r.locked_closed_min ?? '–'}</td>
                <td>{r.exempt_min ?? '–'}</td>
                <td>{r.offline_min ?? '–'}</td>
                <td>{r.breach_min ?? '–'}</td>
                <td>{r.tamper_count ?? '–'}</td>
                <td>{pct(r.ratio)}</td>
              </tr>
            ))}
          </Table>
        </>
      )}
    </section>
  );
}
