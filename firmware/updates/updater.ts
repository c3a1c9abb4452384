/**
 * Fleet updates on the device: takes the hub's offer, waits until no lesson has the locker locked, fetches the bundle
 * from the hub with the device's own secret, verifies the signature and checksums itself (the hub is not trusted to
 * have checked), unpacks beside the running version, switches `current` and exits for systemd to start the new one.
 *
 * On a trial start (boot-guard.ts) it confirms the new version once the device reaches the hub with its board and
 * journal working, or switches back at the deadline. Every step is reported to the hub as update progress.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { DeviceConfig } from '../../schemas/config.js';
import type { UpdateStage } from '../../schemas/messages.js';
import { BundleError, checkInstallable, hostTarget, verifyBundle } from '../../shared/release-bundle.js';
import { compareVersions } from '../../shared/version-order.js';
import type { DeviceLog, RunningDevice, UpdateCommand } from '../device.js';
import { GUARD_DEFAULTS, type GuardLimits, missedDeadline, type PendingUpdate } from './boot-guard.js';
import {
  type InstallLayout,
  layoutOf,
  type Outcome,
  pruneReleases,
  switchTo,
  unpackRelease,
  updateState,
} from './install-dir.js';

/** The exit code that asks the supervisor (systemd) to start the program again, from whatever `current` is now. */
export const RESTART_EXIT_CODE = 75;

export type UpdatesConfig = NonNullable<DeviceConfig['updates']>;

export function guardLimits(updates: UpdatesConfig): GuardLimits {
  return {
    selfCheckMs: (updates.selfCheckS ?? GUARD_DEFAULTS.selfCheckMs / 1000) * 1000,
    maxStarts: updates.maxStarts ?? GUARD_DEFAULTS.maxStarts,
  };
}

export interface UpdaterOptions {
  config: DeviceConfig & { updates: UpdatesConfig };
  device: RunningDevice;
  password: string;
  log: DeviceLog;
  /** The pending update this start is a trial of (boot-guard.ts), if any. */
  trial: PendingUpdate | null;
  /** Stops the device program cleanly and exits with RESTART_EXIT_CODE. */
  restart(reason: string): void;
  now?: () => number;
  /** How often a waiting offer or a trial re-checks the device. Default 1000 ms. */
  checkMs?: number;
}

class Refusal extends Error {
  readonly code = 'E_UPDATE_REFUSED';
}

export class Updater {
  private readonly layout: InstallLayout;
  private readonly state: ReturnType<typeof updateState>;
  private readonly now: () => number;
  private readonly limits: GuardLimits;
  private latest: UpdateCommand | null = null;
  private busy = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private offLink: (() => void) | undefined;
  private trial: PendingUpdate | null;

  constructor(private readonly opts: UpdaterOptions) {
    this.layout = layoutOf(opts.config.updates.installDir, opts.config.dataDir);
    this.state = updateState(this.layout);
    this.now = opts.now ?? Date.now;
    this.limits = guardLimits(opts.config.updates);
    this.trial = opts.trial;
  }

  start(): void {
    this.offLink = this.opts.device.onLink((up) => {
      if (up) void this.onConnected();
    });
    this.timer = setInterval(() => this.check(), this.opts.checkMs ?? 1000);
    if (this.opts.device.connected()) void this.onConnected();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.offLink?.();
  }

  /** The hub's offer (retained, so it comes again on every connect). The newest wins. */
  offer(command: UpdateCommand): void {
    this.latest = command;
    void this.run();
  }

  private get running(): string {
    return this.opts.device.software;
  }

  /** Stages already told per offer in this process: the retained offer comes again on every connect. */
  private readonly told = new Set<string>();

  private async report(stage: UpdateStage, offer: Pick<UpdateCommand, 'id' | 'version'>, reason?: string) {
    const key = `${offer.id}\n${stage}`;
    if (this.told.has(key)) return;
    this.told.add(key);
    const progress = {
      v: 1 as const,
      ts: this.now(),
      offer: offer.id,
      version: offer.version,
      running: this.running,
      stage,
      ...(reason ? { reason: reason.slice(0, 300) } : {}),
    };
    this.opts.log.info({ stage, version: offer.version, reason }, 'update: progress');
    await this.opts.device
      .publishUpdateProgress(progress)
      .catch((error: unknown) => this.opts.log.debug({ err: String(error) }, 'update: progress not sent'));
  }

  private async onConnected(): Promise<void> {
    // How the last offer ended (installed, or rolled back by the guard or the trial), told once the hub can hear it.
    const outcome = await this.state.outcome();
    if (outcome) {
      await this.report(outcome.stage, { id: outcome.offer, version: outcome.version }, outcome.reason);
      await this.state.clearOutcome();
    }
    this.check();
  }

  /** Periodic: confirm or end a trial, and start a waiting offer once the locker is free. */
  private check(): void {
    if (this.stopped) return;
    if (this.trial) void this.checkTrial(this.trial);
    else if (this.latest && !this.busy) void this.run();
  }

  private async checkTrial(trial: PendingUpdate): Promise<void> {
    const { device } = this.opts;
    const s = device.state();
    if (device.connected() && !s.booting && !s.boardLost && !s.journalFault) {
      this.trial = null;
      await this.state.clearPending();
      await pruneReleases(this.layout, [trial.to, trial.from]);
      this.opts.log.info({ version: trial.to }, 'update: new version passed its self-check');
      await this.report('installed', { id: trial.offer, version: trial.to });
      return;
    }
    if (trial.deadline !== null && this.now() > trial.deadline) {
      this.trial = null;
      await this.rollBack(trial, missedDeadline(trial.to, this.limits));
    }
  }

  private async rollBack(trial: PendingUpdate, reason: string): Promise<void> {
    this.opts.log.error({ from: trial.to, to: trial.from, reason }, 'update: switching back');
    await rollBackTo(this.layout, trial, reason);
    this.stop();
    this.opts.restart(reason);
  }

  private async run(): Promise<void> {
    const offer = this.latest;
    if (!offer || this.busy || this.stopped || this.trial) return;
    this.busy = true;
    try {
      if (offer.version === this.running) {
        this.latest = null;
        await this.report('installed', offer);
        return;
      }
      const refusedBefore = (await this.state.refused()).find((r) => r.offer === offer.id);
      if (refusedBefore) {
        // A retained offer comes back on every connect: say again why, do not fetch it again.
        this.latest = null;
        await this.report(refusedBefore.stage, offer, refusedBefore.reason);
        return;
      }
      if (compareVersions(offer.version, this.running) < 0 && !offer.downgrade)
        throw new Refusal(
          `version ${offer.version} is older than ${this.running}; a downgrade needs an admin's decision`,
        );
      // Never during a lesson whose locker is locked: wait for a break or the end of the day.
      if (this.lockedNow()) {
        if (this.waitingFor !== offer.id)
          await this.report('waiting', offer, 'the locker is locked for a lesson');
        this.waitingFor = offer.id;
        return;
      }
      await this.report('downloading', offer);
      const bytes = await this.download(offer);
      await this.report('verifying', offer);
      const bundle = await this.verify(offer, bytes);
      await unpackRelease(this.layout, offer.version, bundle.files);
      if (this.latest !== offer || this.lockedNow()) return; // a newer offer, or a lesson began: think again
      this.latest = null;
      await this.state.setPending({
        offer: offer.id,
        from: this.running,
        to: offer.version,
        attempts: 0,
        deadline: null,
      });
      await switchTo(this.layout, offer.version);
      await this.report('restarting', offer);
      this.stop();
      this.opts.restart(`update to ${offer.version}`);
    } catch (error) {
      const reason =
        error instanceof Refusal || error instanceof BundleError
          ? error.message
          : `could not install: ${error instanceof Error ? error.message : String(error)}`;
      if (this.latest === offer) this.latest = null;
      await this.state.addRefused({
        offer: offer.id,
        version: offer.version,
        running: this.running,
        stage: 'refused',
        reason,
      });
      await this.report('refused', offer, reason);
    } finally {
      this.busy = false;
    }
  }

  private waitingFor: string | null = null;

  private lockedNow(): boolean {
    return this.opts.device.state().locker.locked;
  }

  private async verify(offer: UpdateCommand, bytes: Buffer) {
    const keys = await Promise.all(this.opts.config.updates.publicKeys.map((file) => readFile(file, 'utf8')));
    const bundle = verifyBundle(bytes, keys);
    if (bundle.manifest.version !== offer.version)
      throw new Refusal(
        `the bundle holds version ${bundle.manifest.version}, not the ${offer.version} offered`,
      );
    checkInstallable(
      bundle.manifest,
      { running: this.running, ...hostTarget() },
      { downgrade: offer.downgrade },
    );
    return bundle;
  }

  /** GET from the hub with HTTP basic auth (device id and secret), over the hub's CA when one is configured. */
  private async download(offer: UpdateCommand): Promise<Buffer> {
    const { config, password } = this.opts;
    const url = new URL(
      `api/device-updates/${encodeURIComponent(offer.version)}`,
      withSlash(config.updates.hubHttpUrl),
    );
    const ca = config.hub.ca ? await readFile(config.hub.ca) : undefined;
    const auth = Buffer.from(`${config.deviceId}:${password}`).toString('base64');
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        url,
        { headers: { authorization: `Basic ${auth}` }, ...(ca ? { ca } : {}), timeout: 60_000 },
        (response) => {
          if (response.statusCode !== 200) {
            response.resume();
            reject(new Refusal(`the hub answered ${response.statusCode} for version ${offer.version}`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            // Never hold more than the offer said: a hub (or anyone between) cannot fill the device's memory.
            if (size > offer.size) {
              request.destroy(new Refusal(`the download is larger than the ${offer.size} bytes offered`));
              return;
            }
            chunks.push(chunk);
          });
          response.on('end', () => resolve(Buffer.concat(chunks)));
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error('download timed out')));
      request.on('error', reject);
      request.end();
    });
    if (bytes.length !== offer.size || createHash('sha256').update(bytes).digest('hex') !== offer.sha256)
      throw new Refusal('the download does not match the offer (size or SHA-256)');
    return bytes;
  }
}

const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

/** Points `current` back at the version the trial came from and records why, for the next start to report. */
export async function rollBackTo(layout: InstallLayout, trial: PendingUpdate, reason: string): Promise<void> {
  const state = updateState(layout);
  const outcome: Outcome = {
    offer: trial.offer,
    version: trial.to,
    running: trial.from,
    stage: 'rolled-back',
    reason,
  };
  await switchTo(layout, trial.from);
  await state.setOutcome(outcome);
  await state.addRefused(outcome);
  await state.clearPending();
}
