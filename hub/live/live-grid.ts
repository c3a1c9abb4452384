/** The live view of every device for the dashboard's Today grid: folded from bus events, pushed on change. */
import type { LockerState, SignageState } from '../../schemas/messages.js';
import type { DeviceRef, EventBus } from '../event-bus.js';

export interface DeviceView {
  site: string;
  room: string;
  device: string;
  online: boolean;
  locker?: LockerState;
  signage?: SignageState;
  software?: string;
  queued?: number;
  lastSeen?: number;
  fault?: string;
  /** R1: the device cannot write its journal (from its heartbeats; clears when it can again). */
  storageFault?: boolean;
  /** Phones confiscated into this locker and not yet returned (P7). */
  confiscated?: number;
  /** R7: why tampering is suspected (it went offline while locked with phones), until its journal clears it. */
  suspect?: string;
}

export class LiveGrid {
  private readonly views = new Map<string, DeviceView>();
  private readonly listeners = new Set<(view: DeviceView) => void>();

  constructor(
    bus: EventBus,
    private readonly now: () => number,
  ) {
    bus.on('device.availability', ({ ref, availability }) =>
      this.update(ref, { online: availability.status === 'online' }),
    );
    bus.on('device.locker-state', ({ ref, state }) => this.update(ref, { locker: state, online: true }));
    bus.on('device.signage-state', ({ ref, state }) => this.update(ref, { signage: state, online: true }));
    bus.on('device.heartbeat', ({ ref, heartbeat }) =>
      this.update(ref, {
        software: heartbeat.software,
        queued: heartbeat.queued,
        online: true,
        storageFault: heartbeat.journalFault === true,
      }),
    );
    bus.on('device.fault', ({ ref, reason }) => this.update(ref, { fault: reason }));
  }

  /** Devices known from the registry appear (offline) before they first speak. */
  seed(refs: DeviceRef[]): void {
    for (const ref of refs)
      if (!this.views.has(ref.device)) this.views.set(ref.device, { ...ref, online: false });
  }

  setConfiscated(ref: DeviceRef, confiscated: number): void {
    this.update(ref, { confiscated });
  }

  setSuspect(ref: DeviceRef, suspect: string | undefined): void {
    const current = this.views.get(ref.device);
    if (suspect === undefined && current) {
      const { suspect: _cleared, ...rest } = current;
      this.views.set(ref.device, rest);
    }
    this.update(ref, suspect === undefined ? {} : { suspect });
  }

  setOnline(ref: DeviceRef, online: boolean): void {
    this.update(ref, { online });
  }

  private update(ref: DeviceRef, patch: Partial<DeviceView>): void {
    const current = this.views.get(ref.device) ?? { ...ref, online: false };
    const next: DeviceView = { ...current, ...ref, ...patch, lastSeen: this.now() };
    this.views.set(ref.device, next);
    for (const listener of this.listeners) listener(next);
  }

  all(): DeviceView[] {
    return [...this.views.values()].sort(
      (a, b) => a.room.localeCompare(b.room) || a.device.localeCompare(b.device),
    );
  }

  onChange(listener: (view: DeviceView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
