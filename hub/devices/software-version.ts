/**
 * S8: "devices configured to perform updates regularly". A device is out of date when its software is older than the
 * version the hub expects: the configured expected version, or else the hub's own software version. Comparing with
 * the newest in the fleet would never flag a fleet that is all equally old.
 */

import { compareVersions } from '../../shared/version-order.js';

export { compareVersions };

export function isOutOfDate(software: string | undefined, expected: string): boolean {
  return software !== undefined && compareVersions(software, expected) < 0;
}

export interface SoftwareStatus {
  expected: string;
  /** 'configured': `expectedDeviceSoftware` in the hub config; 'hub': the hub's own version. */
  source: 'configured' | 'hub';
  /** Devices whose reported software is older than `expected`. */
  outOfDate: string[];
}

export function softwareStatus(
  devices: readonly { id: string; software?: string | undefined }[],
  hubVersion: string,
  configured?: string,
): SoftwareStatus {
  const expected = configured ?? hubVersion;
  return {
    expected,
    source: configured ? 'configured' : 'hub',
    outOfDate: devices.filter((d) => isOutOfDate(d.software, expected)).map((d) => d.id),
  };
}
