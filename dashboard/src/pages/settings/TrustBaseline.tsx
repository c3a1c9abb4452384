/**
 * How this school's policy differs from its trust's baseline (P8), in plain words under Settings → Policy. Schools
 * stay free to differ: this only shows where they do. Nothing shows when the hub has no trust baseline.
 */
import { Notice } from '../../components/Field.js';
import { Table } from '../../components/Table.js';
import { useResource } from '../../resource.js';
import { KIND_TEXT, ROLE_TEXT, TIME_TEXT } from '../../school-text.js';
import type { BaselineView } from '../../types.js';

const ANSWER: Record<string, string> = { yes: 'Yes', no: 'No', 'if-unavoidable': 'Not if avoidable' };

export function TrustBaselineDifferences() {
  const { data: view, error } = useResource<BaselineView>('/api/policy/baseline');
  if (error) return <Notice error={error} />;
  if (!view?.configured) return null;
  return (
    <section aria-labelledby="baseline-heading" data-testid="trust-baseline">
      <h2 id="baseline-heading">Compared with the trust's baseline</h2>
      {view.problem !== undefined ? (
        <p class="error" data-testid="baseline-problem">
          The trust's baseline could not be read, so this school's policy cannot be compared with it:{' '}
          {view.problem}. Ask whoever runs the hub for the trust's current baseline file.
        </p>
      ) : view.differences.length === 0 ? (
        <p data-testid="baseline-same">
          This school's phone policy is the same as the trust's baseline, {view.name}.
        </p>
      ) : (
        <>
          <p>
            This school's phone policy differs from the trust's baseline, {view.name}, in{' '}
            {view.differences.length} {view.differences.length === 1 ? 'place' : 'places'}. Schools are free
            to differ; the trust sees the same list.
          </p>
          <Table
            caption="Where this school differs"
            columns={['Who', 'Where', 'When', 'This school', "Trust's baseline"]}
            testId="baseline-differences"
          >
            {view.differences.map((d) => (
              <tr key={`${d.audience}-${d.time}-${d.zone}`}>
                <th scope="row">{ROLE_TEXT[d.audience]}</th>
                <td>{KIND_TEXT[d.zone] ?? d.zone}</td>
                <td>{TIME_TEXT[d.time] ?? d.time}</td>
                <td>{ANSWER[d.school]}</td>
                <td>{ANSWER[d.baseline]}</td>
              </tr>
            ))}
          </Table>
        </>
      )}
    </section>
  );
}
