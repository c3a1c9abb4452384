/**
 * A classroom device whose journal cannot write (its heartbeat says `journalFault`) is a device fault (R1): a report
 * pressed there while the network is down is held only in the device's memory. The dashboard grid shows it from the
 * heartbeat itself (live-grid.ts); this extension emails the coordinator once per fault, not once per heartbeat, and
 * remembers which devices it has told about in the hub DB so a hub restart does not tell them again.
 */
import type { HubDb } from '../db/hub-db.js';
import type { EventBus } from '../event-bus.js';
import type { HubExtension } from '../extension.js';
import type { Logger } from '../log.js';
import { deviceFaultNotice, type Notifier } from '../notify/notifier.js';

export interface StorageFaultDeps {
  db: HubDb;
  bus: EventBus;
  notifier: Notifier | null;
  dashboardUrl: string;
  log: Logger;
  now: () => number;
}

const KEY = (device: string) => `storage-fault/${device}`;

export class StorageFaults implements HubExtension {
  readonly name = 'storage-faults';
  private off: (() => void) | null = null;
  /** Devices whose current fault the coordinator has been told about. */
  private readonly told = new Set<string>();

  constructor(private readonly deps: StorageFaultDeps) {}

  async start(): Promise<void> {
    for await (const [key] of this.deps.db.entries<unknown>('meta', {
      gte: 'storage-fault/',
      lt: 'storage-fault/~',
    }))
      this.told.add(key.slice('storage-fault/'.length));
    this.off = this.deps.bus.on('device.heartbeat', ({ ref, heartbeat }) =>
      this.seen(ref, heartbeat.journalFault === true),
    );
  }

  async stop(): Promise<void> {
    this.off?.();
    this.off = null;
  }

  private async seen(ref: { device: string; room: string }, faulty: boolean): Promise<void> {
    const { db, log, notifier, now } = this.deps;
    if (faulty === this.told.has(ref.device)) return;
    if (faulty) {
      this.told.add(ref.device);
      log.warn({ device: ref.device, room: ref.room }, 'device cannot write its journal');
      const ops = notifier?.jobOps(deviceFaultNotice(ref, now(), this.deps.dashboardUrl)) ?? [];
      await db.batch([...ops, { type: 'put', sublevel: 'meta', key: KEY(ref.device), value: now() }]);
      notifier?.kick();
    } else {
      this.told.delete(ref.device);
      log.info({ device: ref.device }, 'device writes its journal again');
      await db.del('meta', KEY(ref.device));
    }
  }
}
