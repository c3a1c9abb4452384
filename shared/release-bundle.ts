/**
 * Signed device release bundles (ETSI EN 303 645 5.3): one file a hub stores and a device verifies itself.
 *
 * Layout (no archive library: the project has none, and a flat list of checksummed files is all a release needs):
 *
 *   "PHONES-AWAY-BUNDLE/1\n" | u32 BE manifest length | manifest (JSON) | u32 BE signature length | signature (JSON,
 *   length 0 when unsigned) | payload (every file's bytes, concatenated in manifest order)
 *
 * The Ed25519 signature covers the manifest bytes exactly as stored; the manifest carries each file's size and SHA-256,
 * so one signature vouches for every byte. Signing appends nothing to the payload, so `release sign` never re-reads it.
 * Verification checks the signature before looking at any payload byte, and every check fails closed.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { compareVersions } from './version-order.js';

export const BUNDLE_MAGIC = 'PHONES-AWAY-BUNDLE/1\n';
/** Domain separation: a signature over a manifest can never be replayed as a signature over anything else. */
const SIGNED_PREFIX = 'phones-away release manifest v1\n';
/** Bounds, so a crafted length field cannot make a reader allocate or loop without end. */
export const BUNDLE_LIMITS = {
  manifestBytes: 8 * 1024 * 1024,
  files: 50_000,
  totalBytes: 1024 * 1024 * 1024,
};
const VERSION = /^[0-9A-Za-z.+-]{1,32}$/;

export type BundleErrorCode =
  | 'E_BUNDLE_FORMAT'
  | 'E_BUNDLE_UNSIGNED'
  | 'E_BUNDLE_SIGNATURE'
  | 'E_BUNDLE_CHECKSUM'
  | 'E_BUNDLE_TARGET'
  | 'E_BUNDLE_OLDER';

export class BundleError extends Error {
  constructor(
    readonly code: BundleErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BundleError';
  }
}

export interface BundleFile {
  /** Relative, '/'-separated, no '.' or '..' segment. */
  path: string;
  size: number;
  sha256: string;
  /** Unix permission bits (0o755 for executables, else 0o644). */
  mode: number;
}

export interface ReleaseTarget {
  platform: string;
  arch: string;
  /** Major version of Node the production dependencies (native addons) were installed for. */
  nodeMajor: number;
}

export interface BundleManifest {
  format: 1;
  name: 'phones-away-device';
  version: string;
  target: ReleaseTarget;
  builtAt: string;
  /** Entry the device's service runs, relative to the release directory. */
  entry: string;
  files: BundleFile[];
}

export interface BundleSignature {
  alg: 'ed25519';
  keyId: string;
  sig: string;
}

export interface ParsedBundle {
  manifest: BundleManifest;
  manifestBytes: Buffer;
  signature: BundleSignature | null;
  payload: Buffer;
}

export interface VerifiedBundle {
  manifest: BundleManifest;
  keyId: string;
  files: { path: string; mode: number; data: Buffer }[];
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A safe relative path: no absolute path, no '.'/'..' segment, no backslash or control character. */
export function isSafePath(path: string): boolean {
  if (path.length === 0 || path.length > 1024 || path.startsWith('/')) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\\\u0000-\u001f]/.test(path)) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/** The unsigned bundle of `files` (paths checked, checksums computed here). */
export function buildBundle(
  meta: Pick<BundleManifest, 'version' | 'target' | 'entry'> & { builtAt?: string },
  files: readonly { path: string; mode: number; data: Buffer }[],
): Buffer {
  if (!VERSION.test(meta.version))
    throw new BundleError('E_BUNDLE_FORMAT', `'${meta.version}' is not a version`);
  const seen = new Set<string>();
  for (const file of files) {
    if (!isSafePath(file.path)) throw new BundleError('E_BUNDLE_FORMAT', `unsafe path '${file.path}'`);
    if (seen.has(file.path)) throw new BundleError('E_BUNDLE_FORMAT', `'${file.path}' appears twice`);
    seen.add(file.path);
  }
  if (!seen.has(meta.entry))
    throw new BundleError('E_BUNDLE_FORMAT', `the entry '${meta.entry}' is not in the bundle`);
  const manifest: BundleManifest = {
    format: 1,
    name: 'phones-away-device',
    version: meta.version,
    target: meta.target,
    builtAt: meta.builtAt ?? new Date().toISOString(),
    entry: meta.entry,
    files: files.map((f) => ({
      path: f.path,
      size: f.data.length,
      sha256: sha256(f.data),
      mode: f.mode & 0o777,
    })),
  };
  return assemble(Buffer.from(JSON.stringify(manifest)), null, Buffer.concat(files.map((f) => f.data)));
}

function assemble(manifestBytes: Buffer, signature: BundleSignature | null, payload: Buffer): Buffer {
  const sigBytes = signature ? Buffer.from(JSON.stringify(signature)) : Buffer.alloc(0);
  const lengths = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  return Buffer.concat([
    Buffer.from(BUNDLE_MAGIC),
    lengths(manifestBytes.length),
    manifestBytes,
    lengths(sigBytes.length),
    sigBytes,
    payload,
  ]);
}

/** Splits a bundle into its parts; checks the framing and the manifest's shape, not the signature. */
export function parseBundle(bytes: Buffer): ParsedBundle {
  const bad = (why: string): never => {
    throw new BundleError('E_BUNDLE_FORMAT', `not a phones-away bundle: ${why}`);
  };
  const magic = Buffer.from(BUNDLE_MAGIC);
  if (bytes.length < magic.length + 8 || !bytes.subarray(0, magic.length).equals(magic)) bad('wrong header');
  let at = magic.length;
  const manifestLength = bytes.readUInt32BE(at);
  at += 4;
  if (
    manifestLength === 0 ||
    manifestLength > BUNDLE_LIMITS.manifestBytes ||
    at + manifestLength + 4 > bytes.length
  )
    bad('manifest length out of range');
  const manifestBytes = bytes.subarray(at, at + manifestLength);
  at += manifestLength;
  const sigLength = bytes.readUInt32BE(at);
  at += 4;
  if (sigLength > 4096 || at + sigLength > bytes.length) bad('signature length out of range');
  const sigBytes = bytes.subarray(at, at + sigLength);
  at += sigLength;
  let manifest: BundleManifest;
  let signature: BundleSignature | null = null;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as BundleManifest;
    if (sigLength > 0) signature = JSON.parse(sigBytes.toString('utf8')) as BundleSignature;
  } catch {
    return bad('manifest or signature is not JSON');
  }
  checkManifest(manifest, bad);
  if (signature && (signature.alg !== 'ed25519' || typeof signature.sig !== 'string'))
    bad('unknown signature');
  return { manifest, manifestBytes, signature, payload: bytes.subarray(at) };
}

function checkManifest(m: BundleManifest, bad: (why: string) => never): void {
  if (typeof m !== 'object' || m === null || m.format !== 1 || m.name !== 'phones-away-device')
    bad('unknown format');
  if (typeof m.version !== 'string' || !VERSION.test(m.version)) bad('version missing');
  if (typeof m.entry !== 'string' || !isSafePath(m.entry)) bad('entry missing');
  const t = m.target;
  if (!t || typeof t.platform !== 'string' || typeof t.arch !== 'string' || !Number.isInteger(t.nodeMajor))
    bad('target missing');
  if (!Array.isArray(m.files) || m.files.length > BUNDLE_LIMITS.files) bad('file list missing or too long');
  let total = 0;
  for (const f of m.files) {
    if (typeof f?.path !== 'string' || !isSafePath(f.path)) bad(`unsafe path '${String(f?.path)}'`);
    if (!Number.isSafeInteger(f.size) || f.size < 0) bad(`bad size for ${f.path}`);
    if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256)) bad(`bad checksum for ${f.path}`);
    if (!Number.isInteger(f.mode) || f.mode < 0 || f.mode > 0o777) bad(`bad mode for ${f.path}`);
    total += f.size;
  }
  if (total > BUNDLE_LIMITS.totalBytes) bad('too large');
}

/** Signs an unsigned (or re-signs a signed) bundle with an Ed25519 private key (PEM). */
export function signBundle(bytes: Buffer, privateKeyPem: string): Buffer {
  const parsed = parseBundle(bytes);
  const publicPem = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
  const sig = sign(null, signedBytes(parsed.manifestBytes), privateKeyPem).toString('base64');
  return assemble(parsed.manifestBytes, { alg: 'ed25519', keyId: keyIdOf(publicPem), sig }, parsed.payload);
}

const signedBytes = (manifestBytes: Buffer) => Buffer.concat([Buffer.from(SIGNED_PREFIX), manifestBytes]);

/** A short, stable name for a public key: the first 16 hex digits of the SHA-256 of its DER form. */
export function keyIdOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return sha256(der).slice(0, 16);
}

export function generateReleaseKeys(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function ed25519Key(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new BundleError('E_BUNDLE_SIGNATURE', 'trusted key is not Ed25519');
  return key;
}

/**
 * Checks the signature against the trusted public keys, then every file's size and checksum. Returns the files;
 * throws a BundleError saying which check failed.
 */
export function verifyBundle(bytes: Buffer, trustedKeys: readonly string[]): VerifiedBundle {
  const parsed = parseBundle(bytes);
  if (!parsed.signature) throw new BundleError('E_BUNDLE_UNSIGNED', 'the bundle is not signed');
  const { signature } = parsed;
  const message = signedBytes(parsed.manifestBytes);
  const sig = Buffer.from(signature.sig, 'base64');
  const signer = trustedKeys.find((pem) => {
    try {
      return verify(null, message, ed25519Key(pem), sig);
    } catch {
      return false;
    }
  });
  if (!signer)
    throw new BundleError(
      'E_BUNDLE_SIGNATURE',
      `the signature (key ${signature.keyId}) is not from a trusted key`,
    );
  const { manifest, payload } = parsed;
  const expected = manifest.files.reduce((n, f) => n + f.size, 0);
  if (payload.length !== expected)
    throw new BundleError(
      'E_BUNDLE_CHECKSUM',
      `payload is ${payload.length} bytes, the manifest says ${expected}`,
    );
  let at = 0;
  const files = manifest.files.map((f) => {
    const data = payload.subarray(at, at + f.size);
    at += f.size;
    if (sha256(data) !== f.sha256)
      throw new BundleError('E_BUNDLE_CHECKSUM', `${f.path} does not match its checksum`);
    return { path: f.path, mode: f.mode, data };
  });
  return { manifest, keyId: keyIdOf(signer), files };
}

/**
 * What a device checks beyond the signature: the bundle is for its platform, and not older than what it runs
 * (the same version is refused too: there is nothing to install) unless the hub sent an admin's downgrade.
 */
export function checkInstallable(
  manifest: BundleManifest,
  here: { running: string; platform: string; arch: string; nodeMajor: number },
  options: { downgrade: boolean },
): void {
  const t = manifest.target;
  if (t.platform !== here.platform || t.arch !== here.arch || t.nodeMajor !== here.nodeMajor)
    throw new BundleError(
      'E_BUNDLE_TARGET',
      `built for ${t.platform}-${t.arch} node ${t.nodeMajor}, this device is ${here.platform}-${here.arch} node ${here.nodeMajor}`,
    );
  const order = compareVersions(manifest.version, here.running);
  if (order === 0) throw new BundleError('E_BUNDLE_OLDER', `version ${manifest.version} is already running`);
  if (order < 0 && !options.downgrade)
    throw new BundleError(
      'E_BUNDLE_OLDER',
      `version ${manifest.version} is older than ${here.running}; a downgrade needs an admin's decision`,
    );
}

export function hostTarget(): ReleaseTarget {
  return {
    platform: process.platform,
    arch: process.arch,
    nodeMajor: Number(process.versions.node.split('.')[0]),
  };
}
