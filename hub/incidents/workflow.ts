/**
 * The incident workflow as a pure function (R3, R4, R6): reported → acknowledged → action noted → closed, plus
 * escalation (R2) and routing (R6). A command either yields the new incident with exactly one appended step, or a
 * refusal with a code; it never edits or removes an earlier step. Time and actor are inputs.
 */
import type { Incident, IncidentStep, Referral } from './incident-store.js';

/** Safeguarding categories (R4), as schools' safeguarding logs group online-safety concerns. */
export const CATEGORIES = [
  'online-safety',
  'bullying',
  'self-harm',
  'inappropriate-content',
  'contact',
  'tamper',
  'other',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const REFERRAL_AGENCIES = ['police', 'ceop', 'iwf', 'lado', 'childrens-social-care'] as const;
export const ROUTES = ['coordinator', 'dsl', 'head', 'governor'] as const;
export type Route = (typeof ROUTES)[number];

/** Free-text limits: long enough for a safeguarding note, short enough that one request cannot bloat the log. */
export const NOTE_MAX = 4000;
export const OUTCOME_MAX = 2000;

/**
 * R6: at acknowledgement the coordinator or DSL may say the report is about a member of staff: it is routed at once,
 * to the head, or to the chair of governors when it is about the head.
 */
export const ABOUT_STAFF = ['staff', 'head'] as const;
export type AboutStaff = (typeof ABOUT_STAFF)[number];
export const CATEGORY_REASON_MAX = 500;

export type WorkflowCommand =
  | { type: 'acknowledge'; category?: Category; aboutStaff?: AboutStaff }
  | { type: 'categorise'; category: Category; reason: string }
  | { type: 'note'; text: string; referral?: Referral }
  | { type: 'close'; outcome: string; category?: Category }
  | { type: 'escalate'; to: Route }
  | { type: 'route'; to: Route; text?: string };

export type TransitionResult =
  | { ok: true; incident: Incident; step: IncidentStep }
  | { ok: false; code: 'E_TRANSITION' | 'E_VALIDATION'; message: string };

const refuse = (message: string): TransitionResult => ({ ok: false, code: 'E_TRANSITION', message });
const invalid = (message: string): TransitionResult => ({ ok: false, code: 'E_VALIDATION', message });

/** Control characters other than newline and tab have no place in a note; they are refused rather than stripped. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

const isCategory = (value: string): value is Category => (CATEGORIES as readonly string[]).includes(value);

function checkText(field: string, text: string, max: number): string | null {
  if (text.trim().length === 0) return `${field}: must not be empty`;
  if (text.length > max) return `${field}: at most ${max} characters`;
  if (hasControl(text)) return `${field}: control characters are not allowed`;
  return null;
}

export function transition(
  incident: Incident,
  command: WorkflowCommand,
  by: string,
  at: number,
): TransitionResult {
  if (incident.status === 'closed') return refuse(`incident ${incident.ref} is closed`);
  const next = (changes: Partial<Incident>, step: IncidentStep): TransitionResult => ({
    ok: true,
    incident: { ...incident, ...changes, steps: [...incident.steps, step] },
    step,
  });

  switch (command.type) {
    case 'acknowledge': {
      if (incident.status !== 'reported') return refuse(`incident ${incident.ref} is already acknowledged`);
      if (command.category !== undefined && !isCategory(command.category))
        return invalid(`category: one of ${CATEGORIES.join(', ')}`);
      if (
        command.aboutStaff !== undefined &&
        !(ABOUT_STAFF as readonly string[]).includes(command.aboutStaff)
      )
        return invalid(`aboutStaff: one of ${ABOUT_STAFF.join(', ')}`);
      const routeTo: Route | undefined =
        command.aboutStaff === 'head' ? 'governor' : command.aboutStaff === 'staff' ? 'head' : undefined;
      return next(
        {
          status: 'acknowledged',
          ...(command.category ? { category: command.category } : {}),
          ...(routeTo ? { routeTo } : {}),
        },
        {
          at,
          by,
          action: 'acknowledged',
          ...(command.category ? { category: command.category } : {}),
          ...(routeTo ? { routeTo } : {}),
        },
      );
    }

    case 'categorise': {
      // R4: a category set while the report is open may change as the picture changes, always with the reason.
      if (incident.status === 'reported') return refuse('acknowledge the incident before categorising it');
      if (!isCategory(command.category)) return invalid(`category: one of ${CATEGORIES.join(', ')}`);
      if (incident.category === command.category)
        return refuse(`incident ${incident.ref} is already categorised as ${command.category}`);
      const problem = checkText('reason', command.reason, CATEGORY_REASON_MAX);
      if (problem) return invalid(problem);
      return next(
        { category: command.category },
        { at, by, action: 'categorised', category: command.category, note: command.reason },
      );
    }

    case 'note': {
      if (incident.status === 'reported') return refuse('acknowledge the incident before noting actions');
      const problem = checkText('text', command.text, NOTE_MAX);
      if (problem) return invalid(problem);
      if (command.referral) {
        const { agency, date } = command.referral;
        if (!(REFERRAL_AGENCIES as readonly string[]).includes(agency))
          return invalid(`referral.agency: one of ${REFERRAL_AGENCIES.join(', ')}`);
        if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(date)))
          return invalid('referral.date: YYYY-MM-DD');
      }
      return next(
        { status: 'action-noted' },
        {
          at,
          by,
          action: 'action-noted',
          note: command.text,
          ...(command.referral ? { referral: command.referral } : {}),
        },
      );
    }

    case 'close': {
      if (incident.status === 'reported') return refuse('acknowledge the incident before closing it');
      const problem = checkText('outcome', command.outcome, OUTCOME_MAX);
      if (problem) return invalid(problem);
      const category = command.category ?? incident.category;
      if (category === undefined) return invalid('category: choose one before closing');
      if (!isCategory(category)) return invalid(`category: one of ${CATEGORIES.join(', ')}`);
      return next(
        { status: 'closed', category },
        { at, by, action: 'closed', outcome: command.outcome, category },
      );
    }

    case 'escalate':
      // R2: only an unacknowledged incident escalates, and only once.
      if (incident.status !== 'reported') return refuse(`incident ${incident.ref} is already acknowledged`);
      if (incident.escalatedAt !== undefined) return refuse(`incident ${incident.ref} is already escalated`);
      return next(
        { escalatedAt: at, routeTo: routeAfterEscalation(incident.routeTo, command.to) },
        { at, by, action: 'escalated', routeTo: command.to },
      );

    case 'route': {
      if (!(ROUTES as readonly string[]).includes(command.to))
        return invalid(`to: one of ${ROUTES.join(', ')}`);
      if ((incident.routeTo ?? 'coordinator') === command.to)
        return refuse(`incident ${incident.ref} is already routed to ${command.to}`);
      if (command.text !== undefined) {
        const problem = checkText('text', command.text, NOTE_MAX);
        if (problem) return invalid(problem);
      }
      return next(
        { routeTo: command.to },
        {
          at,
          by,
          action: 'routed',
          routeTo: command.to,
          ...(command.text !== undefined ? { note: command.text } : {}),
        },
      );
    }
  }
}

/** Escalation widens a coordinator's report to the DSL; a concern already routed to the head or governors stays there. */
function routeAfterEscalation(current: Route | undefined, to: Route): Route {
  return current === 'head' || current === 'governor' ? current : to;
}
