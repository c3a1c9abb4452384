/** One role's policy table (P8): a row a time of day, a column a zone kind; the caller gives each cell. */
import { type ComponentChildren, Fragment } from 'preact';
import { KIND_TEXT, TIME_TEXT } from '../school-text.js';
import { TIME_KINDS, ZONE_KINDS } from '../types.js';
import { Table } from './Table.js';

/** The caller's `cell` gives each <td>: the same table reads (Settings' view) and edits (the policy editor). */
export function MatrixTable(props: {
  testId: string;
  caption: ComponentChildren;
  cell: (time: string, zone: string) => ComponentChildren;
}) {
  return (
    <Table
      caption={props.caption}
      columns={['Time', ...ZONE_KINDS.map((z) => KIND_TEXT[z])]}
      class="matrix"
      testId={props.testId}
    >
      {TIME_KINDS.map((time) => (
        <tr key={time}>
          <th scope="row">{TIME_TEXT[time]}</th>
          {ZONE_KINDS.map((zone) => (
            <Fragment key={zone}>{props.cell(time, zone)}</Fragment>
          ))}
        </tr>
      ))}
    </Table>
  );
}
