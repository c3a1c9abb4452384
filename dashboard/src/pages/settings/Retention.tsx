/**
 * How long the hub keeps each kind of data, in plain words (the school's data retention schedule), and the daily
 * backups: the archives kept and, while one is being taken, how far it has got. The administrator may take one now.
 */
import { useEffect, useState } from 'preact/hooks';
import { useAction } from '../../action.js';
import { api, errorText } from '../../api.js';
import { Notice } from '../../components/Field.js';
import { Table } from '../../components/Table.js';
import { fmtDateTime } from '../../format.js';
import { useLive } from '../../live.js';
import type { BackupView, RetentionView } from '../../types.js';

const MB = 1024 * 1024;

/** The daily backups; refreshed every few seconds while one is under way, so its progress shows. */
function Backups() {
  const [view, setView] = useState<BackupView | undefined>(undefined);
  const [error, setError] = useState('');
  // Bumped after "Back up now" so the view (and its progress refresh) starts again.
  const [generation, setGeneration] = useState(0);
  const live = useLive();
  const action = useAction(async () => setGeneration((n) => n + 1));
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    const load = () =>
      api<BackupView>('GET', '/api/backups').then(
        (v) => {
          if (!live) return;
          setView(v);
          if (v?.running) timer = setTimeout(load, 3_000);
        },
        (e) => setError(errorText(e)),
      );
    void load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [generation]);

  return (
    <section aria-labelledby="backups-heading">
      <h2 id="backups-heading">Backups</h2>
      <Notice error={error || action.error} ok={action.ok} />
      {view === undefined ? (
        !error && <p>Loading…</p>
      ) : view === null ? (
        <p data-testid="backups-none">
          No daily backup is set up on this hub. Ask whoever runs the hub to set one up (the backup section of
          its configuration file).
        </p>
      ) : (
        <>
          <p>
            A backup is taken every day at {view.runAt} while the hub runs; the newest {view.keep} are kept.
            {view.lastRunAt === null
              ? ' None has been taken yet.'
              : ` The last one was taken ${fmtDateTime(view.lastRunAt)}.`}
          </p>
          {view.running && (
            <p role="status" data-testid="backup-running">
              A backup is being taken (started {fmtDateTime(view.running.startedAt)}): {view.running.step}
            </p>
          )}
          {live.may('backups:run') && !view.running && (
            <p>
              <button
                type="button"
                disabled={action.busy}
                onClick={() =>
                  void action.act(
                    () => api('POST', '/api/backups/run'),
                    'Backup started. Its progress shows here.',
                  )
                }
              >
                Back up now
              </button>
            </p>
          )}
          {view.lastError && (
            <p class="error" data-testid="backup-error">
              The last backup failed: {view.lastError}. It will be tried again within the hour.
            </p>
          )}
          {view.archives.length > 0 && (
            <Table caption="Backups kept" columns={['Taken', 'Size']} testId="backup-archives">
              {view.archives.map((a) => (
                <tr key={a.file}>
                  <th scope="row">{fmtDateTime(a.at)}</th>
                  <td>{(a.bytes / MB).toFixed(1)} MB</td>
                </tr>
              ))}
            </Table>
          )}
        </>
      )}
    </section>
  );
}

export function RetentionSchedule() {
  const [view, setView] = useState<RetentionView | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api<RetentionView>('GET', '/api/retention').then(setView, (e) => setError(errorText(e)));
  }, []);

  return (
    <>
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
            <Table
              caption="Retention schedule"
              columns={['What', 'Kept for', 'Notes']}
              testId="retention-schedule"
            >
              {view.lines.map((line) => (
                <tr key={line.what}>
                  <th scope="row">{line.what}</th>
                  <td>{line.keptFor}</td>
                  <td>{line.note}</td>
                </tr>
              ))}
            </Table>
            <p data-testid="retention-last-run">
              {view.lastRunAt === null
                ? 'Nothing has been deleted yet: the first run is due within a day of the hub starting.'
                : `Last run: ${fmtDateTime(view.lastRunAt)}.`}
            </p>
          </>
        )}
      </section>
      <Backups />
    </>
  );
}
