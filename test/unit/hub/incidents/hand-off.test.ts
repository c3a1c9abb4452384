import { describe, expect, it } from 'vitest';
import { handOffCsv, handOffRecord, handOffText } from '../../../../hub/incidents/hand-off.js';
import type { Incident } from '../../../../hub/incidents/incident-store.js';

const T0 = Date.parse('2026-06-10T09:30:00Z');
const incident: Incident = {
  id: 'i-1',
  ref: 'AB7K',
  kind: 'report',
  site: 'demo-school',
  room: 'room-1',
  device: 'room-1-locker',
  eventId: 'room-1-locker:1',
  urgency: 'urgent',
  reportedAt: T0,
  receivedAt: T0,
  status: 'closed',
  category: 'inappropriate-content',
  steps: [
    { at: T0, by: 'device:room-1-locker', action: 'reported' },
    { at: T0 + 60_000, by: 'user:coord', action: 'acknowledged' },
    {
      at: T0 + 120_000,
      by: 'user:coord',
      action: 'action-noted',
      note: '=HYPERLINK("http://x") spoke to "class", noted',
      referral: { agency: 'iwf', date: '2026-06-10' },
    },
    {
      at: T0 + 180_000,
      by: 'user:dsl1',
      action: 'closed',
      outcome: 'Reported to IWF.',
      category: 'inappropriate-content',
    },
  ],
};

describe('hand-off export (R3, R6)', () => {
  const record = handOffRecord(incident, 'Europe/London');

  it('R3: carries the fields safeguarding logs expect, in local time', () => {
    expect(record).toMatchObject({
      reference: 'AB7K',
      date: '2026-06-10',
      time: '10:30',
      recordedBy: 'coord',
      category: 'inappropriate-content',
      outcome: 'Reported to IWF.',
    });
    expect(record.actions[0]).toMatchObject({ by: 'coord', referral: { agency: 'iwf' } });
    expect(record.chronology.map((c) => c.action)).toEqual([
      'reported',
      'acknowledged',
      'action-noted',
      'closed',
    ]);
    expect(handOffText(record)).toContain('Recorded by: coord');
  });

  it('R3: CSV quotes text and defuses spreadsheet formulas', () => {
    const csv = handOffCsv(record);
    const lines = csv.trim().split('\r\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^reference,date,time,recorded_by,category/);
    expect(csv).toContain(
      `"'=HYPERLINK(""http://x"") spoke to ""class"", noted; referred to IWF on 2026-06-10"`,
    );
  });
});
