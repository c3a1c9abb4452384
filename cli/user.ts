/**
 * `phones-away user add|passwd|role|disable|enable|reset-totp|list --data-dir <dir>`: staff accounts (S1, S5) on a
 * stopped hub's database. Passwords come from --password-file or one line on stdin; on a terminal without either a
 * strong one is generated and shown once. There is never a default password. Every change is audited (S6).
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { AuditLog } from '../hub/audit/audit-log.js';
import { generateSecret } from '../hub/devices/password-hash.js';
import { STAFF_ROLES, type StaffRole } from '../hub/users/roles.js';
import { UserStore } from '../hub/users/user-store.js';
import { silentLogger } from '../shared/log.js';
import { COMMANDS, commandUsage, type ParsedValues, parseCommandLine } from './commands.js';
import { openStoppedHubDb, resolveDataDir } from './hub-data.js';

export const USER_USAGE = commandUsage(COMMANDS.find((c) => c.name === 'user') as (typeof COMMANDS)[number]);

async function readPassword(file: string | undefined): Promise<{ password: string; generated: boolean }> {
  if (file) return { password: readFileSync(file, 'utf8').replace(/\r?\n$/, ''), generated: false };
  if (!process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin });
    for await (const line of rl) {
      rl.close();
      return { password: line, generated: false };
    }
    throw new Error('no password on stdin');
  }
  return { password: generateSecret(18), generated: true };
}

function parseRoles(text: string | undefined): StaffRole[] {
  if (!text) throw new Error(`--role is required: one or more of ${STAFF_ROLES.join(', ')}, comma-separated`);
  const roles = text.split(',').map((r) => r.trim());
  const bad = roles.filter((r) => !(STAFF_ROLES as readonly string[]).includes(r));
  if (bad.length) throw new Error(`unknown role ${bad.join(', ')}; roles: ${STAFF_ROLES.join(', ')}`);
  return roles as StaffRole[];
}

interface UserValues {
  'data-dir'?: string;
  config?: string;
  role?: string;
  'password-file'?: string;
}

/** `args` as typed after `phones-away user`. */
export async function runUser(args: string[], out: (line: string) => void = console.log): Promise<void> {
  const parsed = parseCommandLine(['user', ...args]);
  if (parsed.kind === 'help') return out(parsed.text);
  return runUserParsed(parsed.values, parsed.positionals, out);
}

export async function runUserParsed(
  parsed: ParsedValues,
  positionals: string[],
  out: (line: string) => void = console.log,
): Promise<void> {
  const values = parsed as UserValues;
  const [action, username] = positionals;
  if (!action) throw new Error(`user needs an action\n\n${USER_USAGE}`);
  if (action !== 'list' && !username) throw new Error(`user ${action} needs a username\n\n${USER_USAGE}`);
  const dataDir = await resolveDataDir(values);
  const db = await openStoppedHubDb(dataDir, `phones-away user ${action}`);
  try {
    const audit = new AuditLog(db, Date.now, silentLogger);
    const users = new UserStore(db, audit);
    const actor = `cli:${userInfo().username}`;
    const name = username as string;
    switch (action) {
      case 'add': {
        const roles = parseRoles(values.role);
        const { password, generated } = await readPassword(values['password-file']);
        await users.add(name, password, roles, Date.now(), actor);
        out(`added ${name} (${roles.join(', ')})`);
        if (generated) out(`password (shown once): ${password}`);
        return;
      }
      case 'passwd': {
        const { password, generated } = await readPassword(values['password-file']);
        await users.setPassword(name, password, Date.now(), actor);
        out(`password changed for ${name}`);
        if (generated) out(`password (shown once): ${password}`);
        return;
      }
      case 'role': {
        const user = await users.setRoles(name, parseRoles(values.role), actor);
        out(`${name}: ${user.roles.join(', ')}`);
        return;
      }
      case 'disable':
      case 'enable':
        await users.setDisabled(name, action === 'disable', actor);
        out(`${name} ${action}d`);
        return;
      case 'reset-totp':
        await users.resetTotp(name, actor);
        out(`${name} will enrol a new authenticator at next sign-in`);
        return;
      case 'list':
        for (const u of await users.list())
          out(
            `${u.username.padEnd(20)} ${u.roles.join(',').padEnd(28)} ${u.disabled ? 'disabled' : 'active  '} ${u.totpEnrolled ? 'totp' : ''}`,
          );
        return;
      default:
        throw new Error(`unknown user action '${action}'\n\n${USER_USAGE}`);
    }
  } finally {
    await db.close();
  }
}
