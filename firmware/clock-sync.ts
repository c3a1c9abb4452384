/**
 * Whether the device clock can be trusted. A Raspberry Pi has no real-time clock: after a power cut it boots at the
 * last saved time until NTP answers, so every event records `clockSynced` and the hub orders by its own receive time.
 *
 * The probe is injectable: 'timedatectl' asks systemd (`timedatectl show -p NTPSynchronized --value`), the two
 * 'assume-…' settings are for the emulated board and for systems without systemd.
 */
import { execFile } from 'node:child_process';
import type { DeviceConfig } from '../schemas/config.js';

/** true/false, or undefined when it cannot be told (the field is then left out of events). */
export type ClockSyncProbe = () => Promise<boolean | undefined>;

export type RunCommand = (file: string, args: readonly string[]) => Promise<string>;

const runCommand: RunCommand = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: 5_000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  });

export function timedatectlProbe(run: RunCommand = runCommand): ClockSyncProbe {
  return async () => {
    try {
      const answer = (await run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'])).trim();
      if (answer === 'yes') return true;
      if (answer === 'no') return false;
      return undefined;
    } catch {
      return undefined; // no systemd (a container, say): unknown, not "unsynchronised"
    }
  };
}

export function fixedProbe(value: boolean): ClockSyncProbe {
  return async () => value;
}

export function clockSyncProbeFor(config: Pick<DeviceConfig, 'clockSync' | 'board'>): ClockSyncProbe {
  const setting =
    config.clockSync ?? (config.board.kind === 'emulated-uno' ? 'assume-synced' : 'timedatectl');
  switch (setting) {
    case 'assume-synced':
      return fixedProbe(true);
    case 'assume-unsynced':
      return fixedProbe(false);
    case 'timedatectl':
      return timedatectlProbe();
  }
}

/** Keeps the latest probe answer, refreshed every `periodMs` (a minute by default). */
export class ClockSyncWatcher {
  private value: boolean | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly probe: ClockSyncProbe,
    private readonly periodMs = 60_000,
  ) {}

  get synced(): boolean | undefined {
    return this.value;
  }

  /** Resolves after the first answer, so the first events already carry it. */
  async start(): Promise<void> {
    await this.refresh();
    if (this.stopped) return;
    this.timer = setInterval(() => void this.refresh(), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    const value = await this.probe().catch(() => undefined);
    if (!this.stopped) this.value = value;
  }
}
