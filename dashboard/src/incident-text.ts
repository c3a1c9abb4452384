/** An incident's codes in plain words for staff (inbox and incident page): staff pages never show a raw code. */
import type { IncidentDetail, IncidentStep, IncidentSummary } from './types.js';

export const STATUS_TEXT: Record<IncidentSummary['status'], string> = {
  reported: 'New – not acknowledged',
  acknowledged: 'Acknowledged',
  'action-noted': 'Action noted',
  closed: 'Closed',
};

export const ACTION_TEXT: Record<IncidentStep['action'], string> = {
  reported: 'Reported',
  acknowledged: 'Acknowledged',
  categorised: 'Category changed',
  'action-noted': 'Action noted',
  escalated: 'Escalated',
  routed: 'Routed',
  closed: 'Closed',
};
export const AGENCY_TEXT: Record<string, string> = {
  police: 'Police',
  ceop: 'CEOP',
  iwf: 'Internet Watch Foundation',
  lado: 'LADO',
  'childrens-social-care': "Children's social care",
};
/** A category or route code as words: 'online-safety' → 'Online safety'. */
export const label = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).replaceAll('-', ' ');

const TAMPER_TEXT: Record<string, string> = {
  'door-opened-while-locked': 'the locker door was opened while locked',
  'button-held': 'the report button was held down',
  'unplugged-in-lesson': 'the device was unplugged in a lesson',
  forced: 'the locker was forced',
};

/** Plain words for staff: the device's reason code never shows as it is. */
export function tamperText(incident: IncidentDetail): string {
  if (incident.tamperReason === 'report-flood') {
    const n = incident.flood?.reports ?? 1;
    return `the report button sent far more reports than anyone could press (${n} collapsed into this alert; check the device)`;
  }
  return TAMPER_TEXT[incident.tamperReason ?? ''] ?? incident.tamperReason ?? '';
}
