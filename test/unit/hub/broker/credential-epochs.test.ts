/** S4, S1: a connection authenticated before its device was revoked or re-keyed is stale; later ones are not. */
import { describe, expect, it } from 'vitest';
import { CredentialEpochs } from '../../../../hub/broker/credential-epochs.js';

describe('credential epochs', () => {
  it('S4: a connection whose check began before a change is stale once the change is made', () => {
    const epochs = new CredentialEpochs();
    const before = {};
    epochs.grant(before, 'room-1-locker', epochs.current('room-1-locker'));
    expect(epochs.isStale(before)).toBe(false);
    epochs.advance('room-1-locker');
    expect(epochs.isStale(before)).toBe(true);
    const after = {};
    epochs.grant(after, 'room-1-locker', epochs.current('room-1-locker'));
    expect(epochs.isStale(after)).toBe(false);
  });

  it('S1: a change to one device leaves other devices and ungranted connections (monitors) alone', () => {
    const epochs = new CredentialEpochs();
    const other = {};
    epochs.grant(other, 'room-2-locker', epochs.current('room-2-locker'));
    epochs.advance('room-1-locker');
    expect(epochs.isStale(other)).toBe(false);
    expect(epochs.isStale({})).toBe(false);
  });
});
