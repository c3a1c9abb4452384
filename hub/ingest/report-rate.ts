/**
 * Per-device report rate (pure, time as input): a token bucket of `burst` reports refilled at `perDevicePerMinute`.
 * A report within it becomes its own incident. Beyond it the device is flooding: that report and every later one is
 * collapsed into the device's one flood incident (still stored and acknowledged), until the device has been quiet
 * long enough for the bucket to fill again. Reports during a flood keep draining the bucket, so a flood faster than
 * the rate never lets single reports through to notify anyone one by one.
 */
export interface ReportRateOptions {
  perDevicePerMinute: number;
  burst: number;
}

export interface RateBucket {
  tokens: number;
  at: number;
  flooding: boolean;
}

export class ReportRate {
  private readonly buckets = new Map<string, RateBucket>();
  private readonly perMs: number;

  constructor(private readonly options: ReportRateOptions) {
    this.perMs = options.perDevicePerMinute / 60_000;
  }

  /** 'single' (its own incident) or 'flood' (collapsed into the device's flood incident). */
  take(device: string, now: number): 'single' | 'flood' {
    const { burst } = this.options;
    const bucket = this.buckets.get(device) ?? { tokens: burst, at: now, flooding: false };
    bucket.tokens = Math.min(burst, bucket.tokens + Math.max(0, now - bucket.at) * this.perMs);
    bucket.at = now;
    this.buckets.set(device, bucket);
    if (bucket.flooding && bucket.tokens >= burst) bucket.flooding = false;
    if (bucket.flooding) {
      bucket.tokens = Math.max(0, bucket.tokens - 1);
      return 'flood';
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 'single';
    }
    bucket.flooding = true;
    return 'flood';
  }

  /** The device's bucket as it stands, for saving; undefined before its first report. */
  snapshot(device: string): RateBucket | undefined {
    const bucket = this.buckets.get(device);
    return bucket ? { ...bucket } : undefined;
  }

  /** Puts back a saved bucket (after a restart), so a flood goes on being a flood. */
  restore(device: string, bucket: RateBucket): void {
    this.buckets.set(device, { ...bucket });
  }

  /** Whether the device's last report started or continued a flood. */
  flooding(device: string): boolean {
    return this.buckets.get(device)?.flooding === true;
  }
}
