/** The school model's codes in plain words for staff: weekdays, zone kinds, times of day and roles (P3, P8). */
export const WEEKDAYS = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
export const KIND_TEXT: Record<string, string> = {
  curriculum: 'Curriculum area',
  'designated-phone-area': 'Designated phone area',
  office: 'Office',
};
export const TIME_TEXT: Record<string, string> = {
  'before-school': 'Before school',
  registration: 'Registration',
  assembly: 'Assembly',
  lesson: 'Lessons',
  break: 'Break',
  lunch: 'Lunch',
  'after-school': 'After school',
  closed: 'School closed',
};
export const ROLE_TEXT = { pupil: 'Pupils', staff: 'Staff, visitors and volunteers' } as const;
