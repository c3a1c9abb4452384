/**
 * The trust's pages as server-rendered HTML: pure functions of figures, no script at all (the CSP allows none), plain
 * words, tables with captions and headers, and a chart that repeats a table's figures for sighted readers. Every
 * value from the store or the config is escaped: the store is shared by many hubs.
 */
import type { AccountView } from './accounts.js';
import type {
  BaselineFigure,
  DeviceHealth,
  IncidentCount,
  Ranked,
  TermFigure,
  Totals,
  WeekFigure,
} from './figures.js';
import { TRUST_TZ } from './figures.js';
import { ROLE_NAMES, type TrustPermission, type TrustRole, trustCan } from './roles.js';

export function esc(value: unknown): string {
  return String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

const dateFmt = new Intl.DateTimeFormat('en-GB', {
  timeZone: TRUST_TZ,
  day: 'numeric',
  month: 'short',
  year: 'numeric',
});
const timeFmt = new Intl.DateTimeFormat('en-GB', {
  timeZone: TRUST_TZ,
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
});
export const day = (ms: number) => dateFmt.format(new Date(ms));
const when = (ms: number) => timeFmt.format(new Date(ms));
export const percent = (t: Totals | null | undefined) =>
  t?.ratio == null ? 'nothing due' : `${Math.round(t.ratio * 100)}%`;

export interface PageUser {
  username: string;
  roles: TrustRole[];
  csrf: string;
}

interface NavItem {
  href: string;
  label: string;
  permission: TrustPermission;
}

const NAV: NavItem[] = [
  { href: '/compliance', label: 'Compliance', permission: 'compliance:read' },
  { href: '/rankings', label: 'Schools ranked', permission: 'compliance:read' },
  { href: '/devices', label: 'Device health', permission: 'devices:read' },
  { href: '/incidents', label: 'Incident counts', permission: 'incidents:read' },
  { href: '/baseline', label: 'Policy baseline', permission: 'baseline:read' },
  { href: '/accounts', label: 'Accounts', permission: 'accounts:manage' },
];

/** The first page a role may read: where sign-in lands. */
export function homeFor(roles: readonly TrustRole[]): string {
  return NAV.find((n) => trustCan(roles, n.permission))?.href ?? '/signed-in';
}

export function layout(
  trust: string,
  title: string,
  body: string,
  user?: PageUser,
  current?: string,
): string {
  const nav = user
    ? `<nav aria-label="Trust pages"><ul>${NAV.filter((n) => trustCan(user.roles, n.permission))
        .map(
          (n) =>
            `<li><a href="${n.href}"${n.href === current ? ' aria-current="page"' : ''}>${esc(n.label)}</a></li>`,
        )
        .join('')}</ul>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="${esc(user.csrf)}">
<span>Signed in as ${esc(user.username)} (${user.roles.map((r) => esc(ROLE_NAMES[r])).join(', ')})</span>
<button type="submit">Sign out</button></form></nav>`
    : '';
  return `<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · ${esc(trust)}</title><link rel="stylesheet" href="/trust.css"></head>
<body><header><p class="trust">${esc(trust)}</p>${nav}</header>
<main id="main"><h1>${esc(title)}</h1>
${body}
</main></body></html>`;
}

const alert = (message?: string) => (message ? `<p role="alert" class="alert">${esc(message)}</p>` : '');

export function signInPage(trust: string, error?: string): string {
  return layout(
    trust,
    'Sign in',
    `${alert(error)}<form method="post" action="/login" class="stack">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>`,
  );
}

export function codePage(
  trust: string,
  step: { loginToken: string; enrol?: { secret: string; otpauthUri: string } },
  error?: string,
): string {
  const enrol = step.enrol
    ? `<p>Add this account to your authenticator app, then enter the code it shows. The key to type in is:</p>
<p><code data-testid="totp-secret">${esc(step.enrol.secret)}</code></p>`
    : '<p>Enter the code your authenticator app shows for this account.</p>';
  return layout(
    trust,
    'Second step',
    `${alert(error)}${enrol}<form method="post" action="/login/code" class="stack">
<input type="hidden" name="loginToken" value="${esc(step.loginToken)}">
<label for="code">Six-digit code from your authenticator app</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required>
<button type="submit">Verify code</button></form>`,
  );
}

export function newPasswordPage(trust: string, loginToken: string, error?: string): string {
  return layout(
    trust,
    'Choose your password',
    `${alert(error)}<p>Your account was made with a one-time password. Choose your own: at least 12 characters, not a
common one and not containing your username.</p>
<form method="post" action="/login/password" class="stack">
<input type="hidden" name="loginToken" value="${esc(loginToken)}">
<label for="new-password">New password</label>
<input id="new-password" name="password" type="password" autocomplete="new-password" minlength="12" required>
<button type="submit">Save password and sign in</button></form>`,
  );
}

export function forbiddenPage(trust: string, user: PageUser): string {
  return layout(trust, 'Not available to your role', '<p>Your account cannot open this page.</p>', user);
}

export function signedInPage(trust: string, user: PageUser): string {
  return layout(
    trust,
    'Signed in',
    '<p>Your account has no trust pages yet. Ask the trust leader.</p>',
    user,
  );
}

function table(caption: string, head: string[], rows: string[][], id?: string): string {
  return `<table${id ? ` data-testid="${esc(id)}"` : ''}><caption>${esc(caption)}</caption>
<thead><tr>${head.map((h, i) => `<th scope="col"${i > 0 ? ' class="num"' : ''}>${esc(h)}</th>`).join('')}</tr></thead>
<tbody>${rows
    .map(
      (r) =>
        `<tr>${r.map((cell, i) => (i === 0 ? `<th scope="row">${cell}</th>` : `<td class="num">${cell}</td>`)).join('')}</tr>`,
    )
    .join('\n')}</tbody></table>`;
}

export interface SchoolName {
  site: string;
  name: string;
  shareIncidents?: boolean;
}

const schoolLink = (s: SchoolName) => `<a href="/schools/${encodeURIComponent(s.site)}">${esc(s.name)}</a>`;

/** The last `n` week starts that any school reported, oldest first. */
function recentWeeks(weeks: readonly WeekFigure[], n: number): number[] {
  return [...new Set(weeks.map((w) => w.weekStart))].sort((a, b) => a - b).slice(-n);
}

export function compliancePage(
  trust: string,
  user: PageUser,
  schools: readonly SchoolName[],
  weeks: readonly WeekFigure[],
  terms: readonly TermFigure[],
): string {
  const shown = recentWeeks(weeks, 6);
  const termNames = [...new Map(terms.map((t) => [t.term, t.start])).entries()]
    .sort((a, b) => a[1] - b[1])
    .slice(-2)
    .map(([name]) => name);
  const rows = schools.map((s) => [
    schoolLink(s),
    ...shown.map((w) => esc(percent(weeks.find((f) => f.site === s.site && f.weekStart === w)))),
    ...termNames.map((t) => esc(percent(terms.find((f) => f.site === s.site && f.term === t)))),
  ]);
  const body = `<p>The share of lesson time with phones locked away when the policy asked for it, per school. Open a
school for its weekly chart and every term.</p>
${
  shown.length === 0 && termNames.length === 0
    ? '<p>No school has sent compliance figures yet.</p>'
    : table(
        'Phones locked away, by week and by term',
        ['School', ...shown.map((w) => `Week of ${day(w)}`), ...termNames.map((t) => `Term ${t}`)],
        rows,
        'compliance-table',
      )
}`;
  return layout(trust, 'Compliance', body, user, '/compliance');
}

/** Weekly compliance as bars, 0–100 %: the table under it holds the same figures. */
export function weekChart(weeks: readonly WeekFigure[]): string {
  const w = 640;
  const h = 200;
  const pad = 32;
  const n = Math.max(weeks.length, 1);
  const band = (w - pad * 2) / n;
  const bars = weeks
    .map((f, i) => {
      const ratio = f.ratio ?? 0;
      const bh = Math.round((h - pad * 2) * ratio);
      const x = Math.round(pad + i * band + band * 0.15);
      return `<rect x="${x}" y="${h - pad - bh}" width="${Math.max(1, Math.round(band * 0.7))}" height="${bh}" fill="#1d5e8c"><title>Week of ${esc(day(f.weekStart))}: ${esc(percent(f))}</title></rect>`;
    })
    .join('');
  const label = weeks.length
    ? `Bar chart of phones locked away per week, from ${day(weeks[0]?.weekStart ?? 0)} (${percent(weeks[0])}) to ${day(weeks.at(-1)?.weekStart ?? 0)} (${percent(weeks.at(-1))}).`
    : 'No weekly figures yet.';
  return `<figure><svg role="img" aria-label="${esc(label)}" viewBox="0 0 ${w} ${h}" width="100%" class="chart" data-testid="week-chart">
<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#333"/>
<line x1="${pad}" y1="${pad}" x2="${w - pad}" y2="${pad}" stroke="#bbb" stroke-dasharray="4"/>
<text x="2" y="${pad + 4}" font-size="12" fill="#222">100%</text><text x="10" y="${h - pad + 4}" font-size="12" fill="#222">0%</text>
${bars}</svg><figcaption>Phones locked away, week by week (figures in the table below).</figcaption></figure>`;
}

export function schoolPage(
  trust: string,
  user: PageUser,
  school: SchoolName,
  weeks: readonly WeekFigure[],
  terms: readonly TermFigure[],
): string {
  const figureRow = (label: string, f: Totals) => [
    label,
    esc(percent(f)),
    esc(f.lessons),
    esc(Math.round(f.dueMin)),
    esc(Math.round(f.breachMin)),
    esc(Math.round(f.offlineMin)),
  ];
  const head = ['Period', 'Locked away', 'Lessons', 'Minutes due', 'Minutes in breach', 'Minutes offline'];
  const body = `${weekChart(weeks)}
${table(
  'By week',
  head.map((h, i) => (i === 0 ? 'Week of' : h)),
  weeks.map((f) => figureRow(esc(day(f.weekStart)), f)),
  'school-weeks',
)}
${table(
  'By term',
  head.map((h, i) => (i === 0 ? 'Term' : h)),
  terms.map((f) => figureRow(esc(f.term), f)),
  'school-terms',
)}`;
  return layout(trust, `Compliance: ${school.name}`, body, user, '/compliance');
}

export function rankingsPage(
  trust: string,
  user: PageUser,
  schools: readonly SchoolName[],
  ranked: readonly Ranked<TermFigure>[],
): string {
  const name = (site: string) => schools.find((s) => s.site === site) as SchoolName;
  const rows = ranked.map((r) => [
    r.rank === null ? 'Not ranked' : esc(r.rank),
    schoolLink(name(r.site)),
    esc(r.figure ? `${percent(r.figure)} (term ${r.figure.term})` : percent(null)),
    esc(r.figure ? Math.round(r.figure.breachMin) : 0),
  ]);
  const body = `<p>Schools in order of phones locked away over their current term, best first. A school with no lesson
time due in it is listed last, not ranked.</p>
<table data-testid="rankings"><caption>Schools ranked by phones locked away</caption>
<thead><tr><th scope="col">Rank</th><th scope="col">School</th><th scope="col" class="num">Locked away</th><th scope="col" class="num">Minutes in breach</th></tr></thead>
<tbody>${rows.map((r) => `<tr><td>${r[0]}</td><th scope="row">${r[1]}</th><td class="num">${r[2]}</td><td class="num">${r[3]}</td></tr>`).join('\n')}</tbody></table>`;
  return layout(trust, 'Schools ranked', body, user, '/rankings');
}

/** A snapshot older than this means the hub has stopped reporting (hubs write one every 5 minutes). */
export const STALE_MS = 20 * 60_000;

export function devicesPage(
  trust: string,
  user: PageUser,
  schools: readonly SchoolName[],
  health: readonly DeviceHealth[],
  now: number,
): string {
  const rows = schools.map((s) => {
    const h = health.find((x) => x.site === s.site);
    if (!h) return [esc(s.name), 'no report yet', '', '', '', '', ''];
    const age = now - h.at > STALE_MS ? ` (hub silent since ${esc(when(h.at))})` : '';
    return [
      esc(s.name),
      esc(h.total),
      esc(h.online),
      esc(h.offline),
      esc(h.faults),
      esc(h.outdated),
      `${esc(when(h.at))}${age}`,
    ];
  });
  const body = `<p>Each school's classroom devices as its hub last reported them.</p>
${table('Devices across the trust', ['School', 'Devices', 'Online', 'Offline', 'With faults', 'Software out of date', 'Reported'], rows, 'devices-table')}`;
  return layout(trust, 'Device health', body, user, '/devices');
}

/**
 * Plain words for the categories hubs file concerns under (hub/incidents/workflow.ts CATEGORIES), and for the
 * contract's 'uncategorised'; anything else a hub sends shows with its hyphens as spaces.
 */
const CATEGORY_NAMES: Record<string, string> = {
  'online-safety': 'Online safety',
  bullying: 'Bullying',
  'self-harm': 'Self-harm',
  'inappropriate-content': 'Inappropriate content',
  contact: 'Contact',
  tamper: 'Locker tampering',
  other: 'Other',
  uncategorised: 'Not yet categorised',
};
const categoryName = (c: string) =>
  CATEGORY_NAMES[c] ?? `${c.charAt(0).toUpperCase()}${c.slice(1).replace(/-/g, ' ')}`;

export function incidentsPage(
  trust: string,
  user: PageUser,
  schools: readonly SchoolName[],
  counts: readonly IncidentCount[],
  since: number,
): string {
  const categories = [...new Set(counts.map((c) => c.category))].sort();
  const rows = schools.map((s) => {
    if (s.shareIncidents !== true) return [esc(s.name), ...categories.map(() => 'not shared'), 'not shared'];
    const mine = counts.filter((c) => c.site === s.site);
    const total = mine.reduce((n, c) => n + c.count, 0);
    return [
      esc(s.name),
      ...categories.map((cat) => esc(mine.find((c) => c.category === cat)?.count ?? 0)),
      esc(total),
    ];
  });
  const body = `<p>How many concerns each school recorded since ${esc(day(since))}, by category. Numbers only: what
happened and who was involved stays in the school. A school that has not agreed to share its counts shows "not shared".</p>
${table('Concerns recorded, by category', ['School', ...categories.map(categoryName), 'All'], rows, 'incidents-table')}`;
  return layout(trust, 'Incident counts', body, user, '/incidents');
}

/** Plain words for the policy cells a hub reports (zone kinds, audiences, time kinds, permissions). */
const CELL_WORDS: Record<string, string> = {
  curriculum: 'Classrooms and corridors',
  'designated-phone-area': 'Designated phone area',
  office: 'Offices',
  pupil: 'Pupils',
  staff: 'Staff',
  'before-school': 'Before school',
  'after-school': 'After school',
  closed: 'School closed',
  no: 'Not allowed',
  yes: 'Allowed',
  'if-unavoidable': 'Not if avoidable',
};
const words = (code: string) =>
  CELL_WORDS[code] ?? `${code.charAt(0).toUpperCase()}${code.slice(1).replace(/-/g, ' ')}`;

export function baselinePage(
  trust: string,
  user: PageUser,
  schools: readonly SchoolName[],
  figures: readonly BaselineFigure[],
  baselineName?: string,
): string {
  const sections = schools.map((s) => {
    const f = figures.find((x) => x.site === s.site);
    if (!f) return `<section><h2>${esc(s.name)}</h2><p>No comparison reported yet.</p></section>`;
    if (f.differences === 0)
      return `<section><h2>${esc(s.name)}</h2><p>Same as the baseline (checked ${esc(when(f.at))}).</p></section>`;
    const rows = f.cells.map((c) =>
      [c.zone, c.audience, c.time, c.school, c.baseline].map((v) => esc(words(v))),
    );
    return `<section><h2>${esc(s.name)}</h2><p>${esc(f.differences)} difference${f.differences === 1 ? '' : 's'} from the baseline (checked ${esc(when(f.at))}).</p>
${table(`Where ${s.name} differs`, ['Place', 'Who', 'When', 'School', 'Baseline'], rows)}</section>`;
  });
  const body = `<p>Where each school's phone rules differ from the trust's baseline${baselineName ? ` (${esc(baselineName)})` : ''}.
Schools are free to differ; this page makes the differences visible.</p>
${sections.join('\n')}`;
  return layout(trust, 'Policy baseline', body, user, '/baseline');
}

export function accountsPage(
  trust: string,
  user: PageUser,
  accounts: readonly AccountView[],
  message?: { text: string; password?: string; error?: boolean },
): string {
  const rows = accounts.map((a) => [
    esc(a.username),
    esc(a.roles.map((r) => ROLE_NAMES[r]).join(', ')),
    a.disabled ? 'Disabled' : 'Active',
    a.totpEnrolled ? 'Set up' : 'At first sign-in',
    a.username === user.username
      ? 'Your account'
      : `<form method="post" action="/accounts/${esc(encodeURIComponent(a.username))}/disabled"><input type="hidden" name="csrf" value="${esc(user.csrf)}"><input type="hidden" name="disabled" value="${a.disabled ? 'false' : 'true'}"><button type="submit">${a.disabled ? 'Enable' : 'Disable'}<span class="visually-hidden"> ${esc(a.username)}</span></button></form>`,
  ]);
  const notice = message
    ? message.error
      ? alert(message.text)
      : `<p role="status" class="notice">${esc(message.text)}${message.password ? ` Their one-time password, to be replaced at their first sign-in, is <code data-testid="new-password">${esc(message.password)}</code>; it is shown only now.` : ''}</p>`
    : '';
  const body = `${notice}
${table('Trust accounts', ['Username', 'Role', 'State', 'Authenticator', 'Action'], rows, 'accounts-table')}
<h2>Add an account</h2>
<form method="post" action="/accounts" class="stack"><input type="hidden" name="csrf" value="${esc(user.csrf)}">
<label for="new-username">Username</label><input id="new-username" name="username" required pattern="[a-z][a-z0-9._\\-]{1,31}">
<label for="new-role">Role</label><select id="new-role" name="role">
${Object.entries(ROLE_NAMES)
  .map(([r, n]) => `<option value="${esc(r)}">${esc(n)}</option>`)
  .join('')}</select>
<button type="submit">Add account</button></form>`;
  return layout(trust, 'Accounts', body, user, '/accounts');
}

export const TRUST_CSS = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#111;background:#fff}
header{background:#0b3954;color:#fff;padding:.5rem 1rem}header a{color:#fff}.trust{font-weight:bold;margin:0}
nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:1rem;padding:0;margin:.25rem 0}
nav form{display:flex;gap:1rem;align-items:center}nav [aria-current]{font-weight:bold}
main{padding:1rem;max-width:72rem}table{border-collapse:collapse;margin:1rem 0}caption{text-align:left;font-weight:bold}
th,td{border:1px solid #999;padding:.25rem .5rem;text-align:left}.num{text-align:right}
.stack{display:flex;flex-direction:column;gap:.25rem;max-width:20rem}.alert{color:#8a1010;font-weight:bold}
.chart{max-width:40rem;border:1px solid #ccc}button{padding:.25rem .75rem}a{color:#0b3954}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;
