/** Writes config/school.example.json: the demo school, from the seed preset. Re-run after changing the presets. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { presetPolicy } from '../hub/policy/presets.js';
import type { SchoolModel } from '../schemas/config.js';
import { parse } from '../schemas/validate.js';

const school: SchoolModel = {
  version: 1,
  site: 'demo-school',
  name: 'Demo Community School',
  zones: [
    { id: 'teaching', name: 'Teaching block', kind: 'curriculum' },
    { id: 'staffroom', name: 'Staff room and reception', kind: 'designated-phone-area' },
    { id: 'office', name: 'School office', kind: 'office' },
  ],
  rooms: [
    { id: 'room-1', name: 'Room 1 (Maths)', zone: 'teaching' },
    { id: 'room-2', name: 'Room 2 (English)', zone: 'teaching' },
    { id: 'room-3', name: 'Room 3 (Science lab)', zone: 'teaching' },
    { id: 'staffroom', name: 'Staff room', zone: 'staffroom' },
    { id: 'office', name: 'School office', zone: 'office' },
  ],
  devices: [
    { id: 'room-1-locker', room: 'room-1', lockerMode: 'lesson', serial: 'PA-0001', installed: '2026-09-01' },
    { id: 'room-2-locker', room: 'room-2', lockerMode: 'lesson', serial: 'PA-0002', installed: '2026-09-01' },
    { id: 'room-3-locker', room: 'room-3', lockerMode: 'lesson', serial: 'PA-0003', installed: '2026-09-01' },
    {
      id: 'office-locker',
      room: 'office',
      lockerMode: 'day-storage',
      serial: 'PA-0004',
      installed: '2026-09-01',
    },
  ],
  timetable: {
    timezone: 'Europe/London',
    weekdays: [1, 2, 3, 4, 5],
    arrival: '08:30',
    homeTime: '15:20',
    periods: [
      { id: 'reg', name: 'Registration', kind: 'registration', start: '08:40', end: '09:00' },
      { id: 'p1', name: 'Period 1', kind: 'lesson', start: '09:00', end: '10:00' },
      { id: 'p2', name: 'Period 2', kind: 'lesson', start: '10:00', end: '11:00' },
      { id: 'break', name: 'Break', kind: 'break', start: '11:00', end: '11:20' },
      { id: 'p3', name: 'Period 3', kind: 'lesson', start: '11:20', end: '12:20' },
      { id: 'lunch', name: 'Lunch', kind: 'lunch', start: '12:20', end: '13:10' },
      { id: 'p4', name: 'Period 4', kind: 'lesson', start: '13:10', end: '14:10' },
      { id: 'p5', name: 'Period 5', kind: 'lesson', start: '14:10', end: '15:10' },
    ],
    terms: [
      { name: 'Autumn 2026', start: '2026-09-02', end: '2026-12-18' },
      { name: 'Spring 2027', start: '2027-01-05', end: '2027-03-26' },
      { name: 'Summer 2027', start: '2027-04-12', end: '2027-07-21' },
    ],
    insetDays: ['2026-09-01', '2027-01-04'],
  },
  policy: presetPolicy('seed'),
};

parse('school-model', school);
writeFileSync(
  join(import.meta.dirname, '..', 'config', 'school.example.json'),
  `${JSON.stringify(school, null, 2)}\n`,
);
console.log('wrote config/school.example.json');
