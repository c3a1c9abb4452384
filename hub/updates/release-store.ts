/**
 * Device releases the hub holds (ETSI 5.3): a bundle is accepted, from the dashboard or the CLI, only if its Ed25519
 * signature verifies against a public key in the hub config and every file matches its checksum. Accepted bundles are
 * kept byte for byte under <dataDir>/releases/ (devices verify them again themselves); the record and its audit entry
 * are committed in one batch.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDurably } from '../../shared/durable-file.js';
import { BundleError, type ReleaseTarget, verifyBundle } from '../../shared/release-bundle.js';
import { compareVersions } from '../../shared/version-order.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { HubDb } from '../db/hub-db.js';
import { HubError } from '../errors.js';

export interface ReleaseRecord {
  version: string;
  /** Of the bundle file as stored and served. */
  size: number;
  sha256: string;
  keyId: string;
  target: ReleaseTarget;
  builtAt: string;
  addedAt: number;
  addedBy: string;
}

export class ReleaseError extends HubError {}

export class ReleaseStore {
  constructor(
    private readonly deps: {
      db: HubDb;
      audit: AuditLog;
      /** Directory the bundle files are kept in. */
      dir: string;
      /** Trusted Ed25519 public keys, PEM. */
      publicKeys: readonly string[];
      now: () => number;
    },
  ) {
    mkdirSync(deps.dir, { recursive: true, mode: 0o700 });
  }

  /** Verifies and stores a bundle; throws ReleaseError (E_RELEASE_REFUSED with the reason, E_RELEASE_EXISTS). */
  async add(bytes: Buffer, actor: string): Promise<ReleaseRecord> {
    const { audit, publicKeys, now } = this.deps;
    if (publicKeys.length === 0)
      throw new ReleaseError(
        'E_RELEASE_REFUSED',
        'no release keys are configured (updates.publicKeys in the hub config)',
      );
    let verified: ReturnType<typeof verifyBundle>;
    try {
      verified = verifyBundle(bytes, publicKeys);
    } catch (error) {
      if (error instanceof BundleError) throw new ReleaseError('E_RELEASE_REFUSED', error.message);
      throw error;
    }
    const { manifest } = verified;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const existing = await this.get(manifest.version);
    if (existing) {
      if (existing.sha256 === sha256) return existing;
      throw new ReleaseError(
        'E_RELEASE_EXISTS',
        `a different bundle of version ${manifest.version} is already held`,
      );
    }
    const record: ReleaseRecord = {
      version: manifest.version,
      size: bytes.length,
      sha256,
      keyId: verified.keyId,
      target: manifest.target,
      builtAt: manifest.builtAt,
      addedAt: now(),
      addedBy: actor,
    };
    const file = this.file(manifest.version);
    // On the disk before the audit commit names it: a power cut must not leave a release recorded as added whose
    // bundle is an empty file (devices would fetch it and refuse it).
    await writeDurably(file, bytes, 0o600);
    try {
      await audit.commit(
        [{ actor, action: 'release.add', target: manifest.version, after: { ...record } }],
        [{ type: 'put', sublevel: 'releases', key: manifest.version, value: record }],
      );
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
    return record;
  }

  get(version: string): Promise<ReleaseRecord | undefined> {
    return this.deps.db.get<ReleaseRecord>('releases', version);
  }

  /** Newest first. */
  async list(): Promise<ReleaseRecord[]> {
    const all = await this.deps.db.values<ReleaseRecord>('releases');
    return all.sort((a, b) => compareVersions(b.version, a.version));
  }

  async read(version: string): Promise<Buffer | null> {
    if (!(await this.get(version))) return null;
    return readFile(this.file(version));
  }

  private file(version: string): string {
    return join(this.deps.dir, `${version}.bundle`);
  }
}
