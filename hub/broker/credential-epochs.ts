/**
 * Which connections were authenticated under device credentials that have since been revoked or replaced (S1, S4).
 * Each change advances the device's epoch; a connection keeps the epoch read before its credentials were checked, and
 * is stale once the two differ.
 *
 * Closing the device's registered client at the change is not enough: aedes checks credentials first and registers
 * the client only later, after reading its session and storing its will (database round trips). A CONNECT checked
 * against the record just before the change committed was not yet registered when the hub closed "the device's
 * connection", and it stayed on as an approved device: with 30 sockets reconnecting through a revocation one
 * survived and its publishes were ingested. The broker re-checks the epoch when aedes registers a client and on every
 * publish, which is two map lookups.
 */
export class CredentialEpochs {
  /** Only devices changed since the hub started; every other device is at epoch 0. */
  private readonly epochs = new Map<string, number>();
  private readonly grants = new WeakMap<object, { device: string; epoch: number }>();

  /** Read before a device's credentials are checked, so a change committed during the check shows as stale. */
  current(device: string): number {
    return this.epochs.get(device) ?? 0;
  }

  /** The device's credentials changed: every connection authenticated before now is stale. */
  advance(device: string): void {
    this.epochs.set(device, this.current(device) + 1);
  }

  /** Remembers the epoch a connection was authenticated under (the value of current() before the check). */
  grant(connection: object, device: string, epoch: number): void {
    this.grants.set(connection, { device, epoch });
  }

  /** Whether the connection's credentials were revoked or replaced after it was authenticated. */
  isStale(connection: object): boolean {
    const grant = this.grants.get(connection);
    return grant !== undefined && grant.epoch !== this.current(grant.device);
  }
}
