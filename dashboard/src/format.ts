/** UK English formatting: dates, times and ages as people in a school office read them. */
const dateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
const time = new Intl.DateTimeFormat('en-GB', { timeStyle: 'short' });

export const fmtDateTime = (ms: number | undefined) => (ms === undefined ? '–' : dateTime.format(ms));
export const fmtTime = (ms: number) => time.format(ms);
export const isoDate = (d: Date) =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
export const addDays = (date: string, days: number) => {
  const d = new Date(`${date}T12:00:00`);
  d.setDate(d.getDate() + days);
  return isoDate(d);
};

/** "3 min", "2 h 5 min", "4 days". */
export function fmtAge(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  const min = Math.max(0, Math.floor(ms / 60_000));
  if (min < 1) return 'under a minute';
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} days`;
}

export const pct = (ratio: number | undefined | null) =>
  ratio === undefined || ratio === null ? '–' : `${Math.round(ratio * 100)}%`;

/** `user:alice` → `alice`, `device:room-1-locker` → `device room-1-locker`. */
export const who = (by: string) => (by.startsWith('user:') ? by.slice(5) : by.replace(':', ' '));

/** "1 incident", "2 incidents": UK English counts. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
