/**
 * Quoting for InfluxQL built by hand. Mirrors InfluxQL's own scanner: inside a quoted token only `\\`, `\"`, `\'`
 * and `\n` are valid escapes and a raw newline ends the token with an error, so those are the characters we escape.
 */

function escapeQuoted(value: string, quote: '"' | "'"): string {
  let out = '';
  for (const ch of value) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else out += ch;
  }
  return quote + out + quote;
}

/** Quotes an identifier (database, retention policy, measurement, tag or field key). Several parts are dot-joined. */
export function quoteIdent(...parts: string[]): string {
  if (parts.length === 0) throw new TypeError('quoteIdent needs at least one part');
  return parts.map((p) => escapeQuoted(p, '"')).join('.');
}

/** Quotes a string literal, e.g. a tag value in a WHERE clause. */
export function quoteString(value: string): string {
  return escapeQuoted(value, "'");
}

/** An epoch-milliseconds time literal (`1700000000000ms`), checked so a stray NaN cannot end up in a query. */
export function msTime(ms: number): string {
  if (!Number.isSafeInteger(ms)) throw new TypeError(`not an integer millisecond timestamp: ${ms}`);
  return `${ms}ms`;
}

/** The helpers as one namespace: `influxql.quoteIdent('m')`. */
export const influxql = { quoteIdent, quoteString, msTime } as const;
