/**
 * Tells the operator the first-run account's password without it reaching a log. On a terminal it is printed; anywhere
 * else (systemd sends stdout to the journal, which many people and backups can read) it is written to a file only the
 * hub's own user can read, and only that file's path is printed. The hub calls this before it stores the account
 * (HubOptions.deliverFirstRunPassword), so the file is synced to disk first: a power cut just after the first start
 * must not leave an account whose password nobody has.
 */
import { join } from 'node:path';
import { writeFileDurably } from '../shared/durable-file.js';

export const FIRST_RUN_FILE = 'first-run-password.txt';

export interface Output {
  isTTY?: boolean;
  write(text: string): unknown;
}

export function announceFirstRun(
  account: { username: string; password: string },
  options: { dataDir: string; out: Output },
): { file: string | null } {
  const { out } = options;
  if (out.isTTY) {
    out.write(
      `First run: sign in as '${account.username}' with password ${account.password}\n` +
        'It is shown only now. Create individual accounts and disable this one.\n',
    );
    return { file: null };
  }
  const file = join(options.dataDir, FIRST_RUN_FILE);
  writeFileDurably(file, `${account.password}\n`, 0o600);
  out.write(
    `First run: the password for '${account.username}' is in ${file} (readable only by this user). ` +
      'Sign in, then delete the file. Create individual accounts and disable this one.\n',
  );
  return { file };
}
