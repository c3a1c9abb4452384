/**
 * The first-run account of the hub (administrator, S5) and of the trust (leader): its password reaches the operator
 * before the account is stored (UserStore.ensureFirstRunAdmin, TrustAccounts.ensureFirstRunLeader), so a failure or a
 * power cut in between never leaves an account whose password nobody has (S7). The power cut itself is attacked in
 * test/faults/first-boot-power-cut.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubDb } from '../../../../hub/db/hub-db.js';
import { SecretBox } from '../../../../hub/secrets/secret-box.js';
import { type FirstRunAccount, UserStore } from '../../../../hub/users/user-store.js';
import { TrustAccounts } from '../../../../trust/accounts.js';

type Deliver = (account: FirstRunAccount) => void | Promise<void>;

interface FirstRun {
  ensure(deliver?: Deliver): Promise<FirstRunAccount | null>;
  count(): Promise<number>;
  signsIn(username: string, password: string): Promise<boolean>;
}

const NOW = 1_800_000_000_000;
const services: [string, (db: HubDb) => FirstRun][] = [
  [
    'hub administrator',
    (db) => {
      const users = new UserStore(db);
      return {
        ensure: (deliver) => users.ensureFirstRunAdmin(NOW, deliver),
        count: () => users.count(),
        signsIn: async (u, p) => (await users.verify(u, p)) !== null,
      };
    },
  ],
  [
    'trust leader',
    (db) => {
      const accounts = new TrustAccounts(db, new SecretBox(randomBytes(32)));
      return {
        ensure: (deliver) => accounts.ensureFirstRunLeader(NOW, deliver),
        count: () => accounts.count(),
        signsIn: async (u, p) => (await accounts.verifyPassword(u, p)) !== null,
      };
    },
  ],
];

describe.each(services)('first-run account: %s (S5, S7)', (_name, make) => {
  let dir: string;
  let db: HubDb;
  let firstRun: FirstRun;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pa-first-run-'));
    db = await HubDb.open(dir);
    firstRun = make(db);
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('S7: the password is handed over before the account exists, and it is the account password', async () => {
    const handed: FirstRunAccount[] = [];
    const account = await firstRun.ensure(async (given) => {
      expect(await firstRun.count(), 'accounts when the password is handed over').toBe(0);
      handed.push({ ...given });
    });
    expect(handed).toEqual([account]);
    expect(await firstRun.signsIn(account?.username ?? '', handed[0]?.password ?? '')).toBe(true);
    // Only ever once: a service with an account makes no second one.
    expect(await firstRun.ensure(() => {})).toBeNull();
  });

  it('S7: if the password cannot be handed over (a full disk), no account is made, and the next start tries again', async () => {
    await expect(
      firstRun.ensure(() => {
        throw new Error('ENOSPC: no space left on device');
      }),
    ).rejects.toThrow('ENOSPC');
    expect(await firstRun.count()).toBe(0);
    const next = await firstRun.ensure();
    expect(await firstRun.signsIn(next?.username ?? '', next?.password ?? '')).toBe(true);
  });
});
