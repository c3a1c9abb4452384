/** How long the hub keeps each kind of data, in plain words (the school's data retention schedule). Read-only. */
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../../api.js';
import { Notice } from '../../components/Field.js';
import { fmtDateTime } from '../../format.js';
import type { RetentionView } from '../../types.js';

export function RetentionSchedule() {
  const [view, setView] = useState<RetentionView | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api<RetentionView>('GET', '/api/retention').then(setView, (e) => setError(errorText(e)));
  }, []);

  return (
    <section aria-labelledby="retention-heading">
      <h2 id="retention-heading">Data retention</h2>
      <p>
        What this hub keeps and for how long. Older records are deleted once a day, and each deletion is
        written to the audit log. The periods are set in the hub's configuration file.
      </p>
      <Notice error={error} />
      {!view ? (
        !error && <p>Loading…</p>
      ) : (
        <>
          <div class="table-wrap">
            <table data-testid="retention-schedule">
              <caption>Retention schedule</caption>
              <thead>
                <tr>
                  <th scope="col">What</th>
                  <th scope="col">Kept for</th>
                  <th scope="col">Notes</th>
                </tr>
              </thead>
              <tbody>
                {view.lines.map((line) => (
                  <tr key={line.what}>
                    <th scope="row">{line.what}</th>
                    <td>{line.keptFor}</td>
                    <td>{line.note}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p data-testid="retention-last-run">
            {view.lastRunAt === null
              ? 'Nothing has been deleted yet: the first run is due within a day of the hub starting.'
              : `Last run: ${fmtDateTime(view.lastRunAt)}.`}
          </p>
        </>
      )}
    </section>
  );
}
