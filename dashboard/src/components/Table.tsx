/**
 * The one table every page uses: it scrolls sideways on a narrow screen instead of breaking the layout, has a caption
 * (shown, or for screen readers only), and column headings scoped to their columns; the caller gives the rows.
 */
import type { ComponentChildren } from 'preact';

/** A column heading; false, null or undefined is a column this role does not see. */
export type Column = ComponentChildren | false | null | undefined;

export function Table(props: {
  caption?: ComponentChildren;
  /** The caption is read by screen readers only (the heading above already says what the table is). */
  hiddenCaption?: boolean;
  columns: readonly Column[];
  /** Named by a heading elsewhere on the page instead of (or as well as) its caption. */
  labelledBy?: string;
  class?: string;
  testId?: string;
  /** The rows (<tr> elements). */
  children: ComponentChildren;
}) {
  const columns = props.columns.filter((c) => c !== false && c !== null && c !== undefined);
  return (
    <div class="table-wrap">
      <table class={props.class} aria-labelledby={props.labelledBy} data-testid={props.testId}>
        {props.caption !== undefined && (
          <caption class={props.hiddenCaption ? 'visually-hidden' : undefined}>{props.caption}</caption>
        )}
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th scope="col" key={i}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}
