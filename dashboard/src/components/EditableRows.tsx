/**
 * An editable table: one row per item, its cells supplied by the caller, then a Remove button named by the row (the
 * name is hidden text, so each button is told apart by a screen reader). Used by the school model editors (P3, P8).
 */
import type { ComponentChildren } from 'preact';
import { Table } from './Table.js';

export function EditableRows<T>(props: {
  caption: string;
  /** Column headings, before the Remove column. */
  columns: readonly string[];
  rows: readonly T[];
  /** What a row is called in its controls' labels and its Remove button. */
  name: (row: T, i: number) => string;
  /** The row's key; its index when the rows have no stable id. */
  rowKey?: (row: T, i: number) => string | number;
  /** The row's <td> cells, in column order. */
  cells: (row: T, i: number, name: string) => ComponentChildren;
  onRemove: (i: number) => void;
}) {
  const { caption, columns, rows, name, rowKey, cells, onRemove } = props;
  return (
    <Table caption={caption} columns={[...columns, <span class="visually-hidden">Remove</span>]}>
      {rows.map((row, i) => {
        const n = name(row, i);
        return (
          <tr key={rowKey ? rowKey(row, i) : i}>
            {cells(row, i, n)}
            <td>
              <button type="button" onClick={() => onRemove(i)}>
                Remove <span class="visually-hidden">{n}</span>
              </button>
            </td>
          </tr>
        );
      })}
    </Table>
  );
}

/** The rows with row i changed by patch. */
export const patchAt = <T,>(rows: readonly T[], i: number, patch: Partial<T>): T[] =>
  rows.map((x, k) => (k === i ? { ...x, ...patch } : x));

/** The rows without row i. */
export const removeAt = <T,>(rows: readonly T[], i: number): T[] => rows.filter((_, k) => k !== i);
