/**
 * The live session, provided by the app shell (main.tsx) to every page below it: who is signed in, what they may do,
 * and the devices and incidents kept current by the stream. Pages read it with useLive() instead of a prop, so no
 * module needs to import the entry file.
 */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Permission } from '../../hub/users/roles.js';
import type { SessionInfo } from './api.js';
import type { DeviceView, InboxItem } from './types.js';

export interface Live {
  session: SessionInfo;
  may: (permission: Permission) => boolean;
  devices: DeviceView[];
  /** Incidents the role may see, newest first, kept current by the stream; null until loaded or when not allowed. */
  incidents: InboxItem[] | null;
  mergeIncident: (incident: InboxItem) => void;
}

/** A component that reads the live session was rendered outside the signed-in shell: a wiring bug. */
export class NoLiveSessionError extends Error {
  readonly code = 'E_NO_LIVE_SESSION';
  constructor() {
    super('useLive() needs the signed-in shell (LiveContext.Provider) above it');
  }
}

export const LiveContext = createContext<Live | null>(null);

export function useLive(): Live {
  const live = useContext(LiveContext);
  if (!live) throw new NoLiveSessionError();
  return live;
}
