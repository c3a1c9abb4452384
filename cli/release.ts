/**
 * `phones-away release …`: make an offline signing key, build a device bundle from the built tree, sign it, check it,
 * and add it to a stopped hub (while the hub runs, upload it on the dashboard's Updates page instead).
 */
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { AuditLog } from '../hub/audit/audit-log.js';
import { loadConfigFile } from '../hub/config-file.js';
import { HubError } from '../hub/errors.js';
import { ReleaseStore } from '../hub/updates/release-store.js';
import { createFileDurably, writeFileDurably } from '../shared/durable-file.js';
import { silentLogger } from '../shared/log.js';
import {
  buildBundle,
  generateReleaseKeys,
  hostTarget,
  keyIdOf,
  parseBundle,
  signBundle,
  verifyBundle,
} from '../shared/release-bundle.js';
import { openStopped } from './admin.js';
import type { ParsedValues } from './commands.js';
import { collectReleaseFiles, DEVICE_ENTRY } from './release-files.js';

interface ReleaseValues {
  out?: string;
  version?: string;
  root?: string;
  'no-deps'?: boolean;
  key?: string;
  'public-key'?: string[];
  config?: string;
}

export async function runRelease(positionals: string[], parsed: ParsedValues): Promise<void> {
  const values = parsed as ReleaseValues;
  const [action, bundleFile] = positionals;
  const bundlePath = () => resolve(bundleFile as string);
  switch (action) {
    case 'keygen': {
      const base = resolve(values.out as string);
      if (existsSync(`${base}.key`)) throw new Error(`${base}.key exists: choose another name`);
      const keys = generateReleaseKeys();
      // Synced before the command says they exist: the private key is kept offline, and a power cut after keygen
      // would otherwise leave an empty key file that no later keygen overwrites.
      createFileDurably(`${base}.key`, keys.privateKeyPem, 0o600);
      createFileDurably(`${base}.pub`, keys.publicKeyPem, 0o644);
      console.log(
        `Key ${keyIdOf(keys.publicKeyPem)}: private ${base}.key (keep it offline), public ${base}.pub ` +
          '(list it in updates.publicKeys of hub.json and of every device.json).',
      );
      return;
    }
    case 'build': {
      const root = resolve(values.root ?? '.');
      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
      const version = values.version ?? pkg.version;
      if (!existsSync(join(root, DEVICE_ENTRY)))
        throw new Error(`${join(root, DEVICE_ENTRY)} is missing: run npm run build first`);
      const files = collectReleaseFiles(root, { version, deps: !values['no-deps'] });
      const bytes = buildBundle({ version, target: hostTarget(), entry: DEVICE_ENTRY }, files);
      writeFileDurably(resolve(values.out as string), bytes, 0o644);
      const t = hostTarget();
      console.log(
        `Built ${values.out}: version ${version} for ${t.platform}-${t.arch} node ${t.nodeMajor}, ` +
          `${files.length} files, ${bytes.length} bytes (unsigned: sign it with release sign).`,
      );
      return;
    }
    case 'sign': {
      const signed = signBundle(readFileSync(bundlePath()), readFileSync(values.key as string, 'utf8'));
      // Replaced whole or not at all: a crash mid-write must not leave half a bundle under its name.
      writeFileDurably(bundlePath(), signed, 0o644);
      const { manifest, signature } = parseBundle(signed);
      console.log(`Signed ${bundleFile}: version ${manifest.version}, key ${signature?.keyId}.`);
      return;
    }
    case 'verify': {
      const keys = (values['public-key'] ?? []).map((file) => readFileSync(file, 'utf8'));
      const verified = verifyBundle(readFileSync(bundlePath()), keys);
      console.log(
        `Good: version ${verified.manifest.version}, ${verified.files.length} files, signed by key ${verified.keyId}.`,
      );
      return;
    }
    case 'add': {
      const configFile = values.config as string;
      const config = loadConfigFile(configFile, 'hub-config');
      const db = await openStopped(join(config.dataDir, 'hub-db'));
      const audit = new AuditLog(db, Date.now, silentLogger);
      try {
        const store = new ReleaseStore({
          db,
          audit,
          dir: join(config.dataDir, 'releases'),
          // Paths as the hub itself reads them (relative to where it runs), so both accept the same keys.
          publicKeys: (config.updates?.publicKeys ?? []).map((file) => readFileSync(file, 'utf8')),
          now: Date.now,
        });
        const record = await store.add(readFileSync(bundlePath()), `cli:${userInfo().username}`);
        console.log(
          `Release ${record.version} added (key ${record.keyId}); roll it out on the dashboard's Updates page.`,
        );
      } catch (error) {
        if (error instanceof HubError) throw new Error(error.message);
        throw error;
      } finally {
        await audit.stop();
        await db.close();
      }
      return;
    }
    default:
      throw new Error(`unknown release action '${action}'`);
  }
}
