import { describe, expect, it } from 'vitest';
import {
  BundleError,
  buildBundle,
  checkInstallable,
  generateReleaseKeys,
  keyIdOf,
  parseBundle,
  signBundle,
  verifyBundle,
} from '../../../shared/release-bundle.js';

const target = { platform: 'linux', arch: 'arm64', nodeMajor: 20 };
const files = [
  { path: 'package.json', mode: 0o644, data: Buffer.from('{"name":"phones-away","version":"1.2.0"}') },
  { path: 'dist/firmware/boot.js', mode: 0o644, data: Buffer.from('console.log("hello")\n') },
];
const school = generateReleaseKeys();
const stranger = generateReleaseKeys();
const signed = signBundle(
  buildBundle({ version: '1.2.0', target, entry: 'dist/firmware/boot.js' }, files),
  school.privateKeyPem,
);

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof BundleError ? error.code : `not a BundleError: ${String(error)}`;
  }
  return 'no error';
};

describe('release bundles (ETSI 5.3, S8)', () => {
  it('a signed bundle verifies against its key and gives back every file byte for byte', () => {
    const verified = verifyBundle(signed, [stranger.publicKeyPem, school.publicKeyPem]);
    expect(verified.keyId).toBe(keyIdOf(school.publicKeyPem));
    expect(verified.manifest.version).toBe('1.2.0');
    expect(verified.files.map((f) => [f.path, f.data.toString()])).toEqual(
      files.map((f) => [f.path, f.data.toString()]),
    );
  });

  it('refuses an unsigned bundle, one signed by a key not trusted, and one with a byte changed anywhere', () => {
    const unsigned = buildBundle({ version: '1.2.0', target, entry: 'dist/firmware/boot.js' }, files);
    expect(codeOf(() => verifyBundle(unsigned, [school.publicKeyPem]))).toBe('E_BUNDLE_UNSIGNED');
    expect(codeOf(() => verifyBundle(signed, [stranger.publicKeyPem]))).toBe('E_BUNDLE_SIGNATURE');
    const { manifestBytes } = parseBundle(signed);
    const payloadAt = signed.length - files.reduce((n, f) => n + f.data.length, 0);
    // One byte in the payload, then one in the manifest (a version digit): each is caught.
    const inPayload = Buffer.from(signed);
    inPayload[payloadAt + 3] = (inPayload[payloadAt + 3] ?? 0) ^ 1;
    expect(codeOf(() => verifyBundle(inPayload, [school.publicKeyPem]))).toBe('E_BUNDLE_CHECKSUM');
    const inManifest = Buffer.from(signed);
    const versionAt = signed.indexOf(Buffer.from('"1.2.0"')) + 1;
    expect(versionAt).toBeGreaterThan(0);
    expect(versionAt).toBeLessThan(signed.indexOf(manifestBytes) + manifestBytes.length);
    inManifest[versionAt] = '9'.charCodeAt(0);
    expect(codeOf(() => verifyBundle(inManifest, [school.publicKeyPem]))).toBe('E_BUNDLE_SIGNATURE');
    expect(codeOf(() => verifyBundle(signed.subarray(0, signed.length - 1), [school.publicKeyPem]))).toBe(
      'E_BUNDLE_CHECKSUM',
    );
  });

  it('refuses crafted framing: wrong header, lengths past the end, paths that leave the release', () => {
    expect(codeOf(() => parseBundle(Buffer.from('not a bundle at all')))).toBe('E_BUNDLE_FORMAT');
    const huge = Buffer.from(signed);
    huge.writeUInt32BE(0xffffffff, 'PHONES-AWAY-BUNDLE/1\n'.length);
    expect(codeOf(() => parseBundle(huge))).toBe('E_BUNDLE_FORMAT');
    for (const path of ['../etc/passwd', '/etc/passwd', 'dist/../../x', 'a\\b'])
      expect(
        codeOf(() =>
          buildBundle({ version: '1', target, entry: path }, [{ path, mode: 0o644, data: Buffer.alloc(1) }]),
        ),
      ).toBe('E_BUNDLE_FORMAT');
  });

  it('a device refuses an older or equal version unless an admin chose the downgrade, and another platform', () => {
    const { manifest } = parseBundle(signed);
    const here = { running: '1.10.0', ...target };
    expect(codeOf(() => checkInstallable(manifest, here, { downgrade: false }))).toBe('E_BUNDLE_OLDER');
    expect(codeOf(() => checkInstallable(manifest, here, { downgrade: true }))).toBe('no error');
    expect(codeOf(() => checkInstallable(manifest, { ...here, running: '1.2.0' }, { downgrade: true }))).toBe(
      'E_BUNDLE_OLDER',
    );
    expect(
      codeOf(() => checkInstallable(manifest, { ...here, running: '1.1.9' }, { downgrade: false })),
    ).toBe('no error');
    expect(
      codeOf(() =>
        checkInstallable(manifest, { ...here, running: '1.0.0', arch: 'x64' }, { downgrade: false }),
      ),
    ).toBe('E_BUNDLE_TARGET');
  });
});
