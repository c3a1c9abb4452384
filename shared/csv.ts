/**
 * CSV for every export (incident list, hand-off record, compliance figures): RFC 4180 quoting, and a leading quote
 * on text a spreadsheet would run as a formula (CSV injection), so a room or category named "=HYPERLINK(…)" opens as
 * text. Browser-safe: the dashboard builds its exports with it too.
 */

/** One cell: empty for null and undefined; text starting with = + - @ tab or CR gets a leading quote. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Rows to CSV text: cells joined by commas, each line ended with CRLF. */
export function toCsv(rows: readonly (readonly unknown[])[]): string {
  return rows.map((row) => `${row.map(csvCell).join(',')}\r\n`).join('');
}
