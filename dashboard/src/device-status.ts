/** A device's state in plain words for staff: the signage mode, the locker, and its health (Today and Devices). */
import type { IconName } from './components/Icon.js';
import type { DeviceView } from './types.js';

export const SIGNAGE_TEXT: Record<string, string> = {
  'phones-away': 'Phones away',
  'phones-allowed': 'Phones allowed',
  'staff-phones-only': "Staff phones allowed; pupils' phones away",
  'authorised-use': 'Authorised use',
  fault: 'Fault',
  off: 'Off',
};

export function lockerStatus(view: DeviceView): { icon: IconName; text: string; tone: string } {
  if (!view.online) return { icon: 'offline', text: 'Offline', tone: 'fault' };
  const locker = view.locker;
  if (!locker) return { icon: 'unknown', text: 'No state yet', tone: 'unknown' };
  if (locker.doorOpen) return { icon: 'door', text: 'Door open', tone: 'open' };
  return locker.locked
    ? { icon: 'locked', text: 'Locked', tone: 'locked' }
    : { icon: 'unlocked', text: 'Unlocked', tone: 'open' };
}

export function health(view: DeviceView): { icon: IconName; text: string } {
  // Tampering suspected outranks any other fault: the coordinator should go and look.
  if (view.suspect) return { icon: 'fault', text: `Tamper suspected: ${view.suspect}` };
  if (view.storageFault) return { icon: 'fault', text: 'Fault: cannot save reports on its memory card' };
  if (view.fault) return { icon: 'fault', text: `Fault: ${view.fault}` };
  return view.online ? { icon: 'online', text: 'Online' } : { icon: 'offline', text: 'Offline' };
}
