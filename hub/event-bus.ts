/**
 * Typed in-process event bus between hub extensions. A listener that throws is logged and the others still run:
 * one bad feature must never stop a report reaching the incident log.
 */
import type {
  Availability,
  Heartbeat,
  LockerEvent,
  LockerState,
  SignageState,
  UpdateProgress,
} from '../schemas/messages.js';
import type { Logger } from './log.js';

export interface DeviceRef {
  site: string;
  room: string;
  device: string;
}

export interface IncidentSummary {
  id: string;
  ref: string;
  kind: 'report' | 'tamper';
  room: string;
  device: string;
  urgency: 'normal' | 'urgent';
  reportedAt: number;
  receivedAt: number;
  status: 'reported' | 'acknowledged' | 'action-noted' | 'closed';
  /** Who the incident is routed to (R2, R6); absent means the coordinator. */
  routeTo?: 'coordinator' | 'dsl' | 'head' | 'governor';
  /** Confirmed safeguarding category, set at close (R4). */
  category?: string;
  /** Set once it passed its acknowledgement deadline unacknowledged (R2). */
  escalatedAt?: number;
}

/** Any feature's change worth auditing (S6), committed by its domain service with the change (AuditLog.commit). */
export interface AuditRecord {
  actor: string;
  action: string;
  target: string;
  before?: unknown;
  after?: unknown;
}

export interface HubEvents {
  'device.availability': { ref: DeviceRef; availability: Availability };
  'device.locker-state': { ref: DeviceRef; state: LockerState };
  'device.signage-state': { ref: DeviceRef; state: SignageState };
  'device.locker-event': { ref: DeviceRef; event: LockerEvent };
  'device.heartbeat': { ref: DeviceRef; heartbeat: Heartbeat };
  'device.fault': { ref: DeviceRef; reason: string; detail?: string };
  'device.update-progress': { ref: DeviceRef; progress: UpdateProgress };
  'incident.created': { incident: IncidentSummary };
  /** `step` is the step just appended (its action and route only: never its free text). */
  'incident.updated': { incident: IncidentSummary; step?: { action: string; routeTo?: string } };
  'ingest.rejected': { reason: string; topic: string; clientId?: string };
  /** A device was enrolled, approved, revoked, re-keyed or added (S4, S6); `who` is a username, 'cli' or 'device:<id>'. */
  'device.changed': { who: string; what: string; device: string; before?: unknown; after?: unknown };
  /** An account was disabled, re-roled or reset: its sessions must end. */
  'account.changed': { username: string };
}

type Listener<K extends keyof HubEvents> = (payload: HubEvents[K]) => void | Promise<void>;

export class EventBus {
  private readonly listeners = new Map<keyof HubEvents, Set<Listener<never>>>();

  constructor(private readonly log: Logger) {}

  on<K extends keyof HubEvents>(event: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  emit<K extends keyof HubEvents>(event: K, payload: HubEvents[K]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        const result = (listener as Listener<K>)(payload);
        if (result instanceof Promise)
          result.catch((error) => this.log.error({ err: error, event }, 'listener failed'));
      } catch (error) {
        this.log.error({ err: error, event }, 'listener failed');
      }
    }
  }
}
