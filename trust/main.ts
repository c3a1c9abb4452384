/**
 * The trust server's composition root: its own accounts database and sealing key under dataDir, a read-only client
 * of the shared store, and the HTTP pages. It holds no address of any school's hub and opens no connection to one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile } from '../hub/config-file.js';
import { HubDb } from '../hub/db/hub-db.js';
import type { Limits } from '../hub/limits.js';
import { createLogger, type Logger } from '../hub/log.js';
import { DEFAULT_KEY_FILE, loadOrCreateKey } from '../hub/secrets/key-file.js';
import { createInfluxStore } from '../hub/store/influx-store.js';
import type { FirstRunAccount } from '../hub/users/user-store.js';
import type { TrustConfig } from '../schemas/trust.js';
import { TrustAccounts } from './accounts.js';
import { startTrustHttp } from './server.js';
import { TrustSignIn } from './sign-in.js';
import { TrustReader } from './trust-reader.js';

export interface TrustServer {
  url: string;
  /** Connections the web listener refused or dropped before a request, by reason. */
  httpRefused(): Record<string, number>;
  accounts: TrustAccounts;
  signIn: TrustSignIn;
  /** Set on the first start only: the trust leader's one-time password. */
  firstRunLeader: FirstRunAccount | null;
  stop(): Promise<void>;
}

/**
 * The baseline's display name. The hubs compare their matrices with the baseline and write the differences; the
 * trust names it, after the same schema check the hubs make (a file that is not a baseline stops the start, listing
 * every problem).
 */
function baselineName(file: string | undefined): string | undefined {
  return file ? loadConfigFile(file, 'trust-baseline').name : undefined;
}

export async function startTrust(
  config: TrustConfig,
  options: {
    log?: Logger;
    now?: () => number;
    /** First start: gives the operator the leader's password before the account is stored (durably, if a file). */
    deliverFirstRunPassword?: (account: FirstRunAccount) => void | Promise<void>;
    /** The web listener's connection caps and timeouts (the hub's defaults when absent; tests set small ones). */
    httpLimits?: Limits['http'];
  } = {},
): Promise<TrustServer> {
  const log = options.log ?? createLogger('trust', config.logLevel ?? 'info');
  const now = options.now ?? Date.now;
  const db = await HubDb.open(join(config.dataDir, 'trust-db'));
  try {
    const anySealed = (await db.values<{ totpSealed?: string }>('users')).some(
      (u) => u.totpSealed !== undefined,
    );
    const { box } = loadOrCreateKey(join(config.dataDir, DEFAULT_KEY_FILE), {
      sealedSecretsExist: anySealed,
    });
    const accounts = new TrustAccounts(db, box);
    const firstRunLeader = await accounts.ensureFirstRunLeader(now(), options.deliverFirstRunPassword);
    const password = config.store.passwordFile
      ? readFileSync(config.store.passwordFile, 'utf8').trim()
      : undefined;
    const store = createInfluxStore({
      url: config.store.url,
      database: config.store.database,
      ...(config.store.username !== undefined ? { username: config.store.username } : {}),
      ...(password !== undefined ? { password } : {}),
      log: log.child({ part: 'store' }),
    });
    const reader = new TrustReader(store, config.schools);
    const signIn = new TrustSignIn(accounts, config.name);
    const http = await startTrustHttp({
      trustName: config.name,
      host: config.http.host,
      port: config.http.port,
      tls: config.http.tls,
      schools: config.schools,
      reader,
      accounts,
      signIn,
      baselineName: baselineName(config.baselineFile),
      log: log.child({ part: 'http' }),
      now,
      ...(options.httpLimits ? { limits: options.httpLimits } : {}),
    });
    log.info({ url: http.url, schools: config.schools.length }, 'trust dashboard listening');
    return {
      url: http.url,
      httpRefused: () => http.refused(),
      accounts,
      signIn,
      firstRunLeader,
      async stop() {
        await http.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}
