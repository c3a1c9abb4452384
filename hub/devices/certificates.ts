/**
 * A school's own certificate authority for MQTT over TLS (S7), made with the `openssl` command (Debian's openssl;
 * scripts/ensure-system-deps.mjs installs it). Keys are EC P-256 (fast on a Pi, supported by every MQTT client) and
 * are created 0600 before openssl writes them, so a key is never readable by others, not even for a moment.
 *
 *   <dir>/ca.key, ca.crt                 the school CA (made once, reused on later runs: never overwritten)
 *   <dir>/hub.key, hub.crt               the hub's server certificate, SAN = --hub-host (DNS name or IP address)
 *   <dir>/devices/<id>.key, <id>.crt     optional client certificates, CN = device id
 */
import { execFile } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fsyncPath } from '../../shared/durable-file.js';
import { HubError } from '../errors.js';

const run = promisify(execFile);
const SLUG = /^[a-z0-9][a-z0-9-]{0,47}$/;
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

export class CertificateError extends HubError {}

export interface CertificateOptions {
  dir: string;
  hubHost: string;
  devices?: string[];
  /** Shown in the CA's subject. */
  schoolName?: string;
  /** Validity of the hub and device certificates; the CA gets ten years. */
  days?: number;
  openssl?: string;
}

export interface CertificateFiles {
  ca: { cert: string; key: string; created: boolean };
  hub: { cert: string; key: string };
  devices: { id: string; cert: string; key: string }[];
}

export async function makeCertificates(options: CertificateOptions): Promise<CertificateFiles> {
  const { dir, hubHost } = options;
  if (!HOST.test(hubHost) && !isIP(hubHost))
    throw new CertificateError('E_VALIDATION', `--hub-host '${hubHost}' is not a host name or IP address`);
  for (const id of options.devices ?? []) {
    if (!SLUG.test(id))
      throw new CertificateError('E_VALIDATION', `--device '${id}' is not a device id (slug)`);
  }
  const openssl = options.openssl ?? 'openssl';
  const days = String(options.days ?? 825);
  const ossl = async (args: string[]) => {
    try {
      await run(openssl, args, { timeout: 60_000 });
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT')
        throw new CertificateError(
          'E_OPENSSL_MISSING',
          'openssl not found: install it (apt-get install openssl)',
        );
      throw new CertificateError('E_OPENSSL', `openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`);
    }
  };
  mkdirSync(join(dir, 'devices'), { recursive: true, mode: 0o700 });

  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  const caExists = existsSync(caKey) && existsSync(caCert);
  if (!caExists) {
    await newKey(ossl, caKey);
    const name = (options.schoolName ?? 'phones-away school').replace(/[/\\=+,]/g, ' ');
    await ossl([
      'req',
      '-x509',
      '-new',
      '-key',
      caKey,
      '-sha256',
      '-days',
      '3650',
      '-subj',
      `/O=${name}/CN=${name} phones-away CA`,
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      caCert,
    ]);
  }

  const sign = async (base: string, subject: string, extensions: string[]) => {
    const key = `${base}.key`;
    const cert = `${base}.crt`;
    const csr = `${base}.csr`;
    const ext = `${base}.ext`;
    await newKey(ossl, key);
    await ossl(['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
    writeFileSync(ext, `${extensions.join('\n')}\n`);
    try {
      await ossl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        caCert,
        '-CAkey',
        caKey,
        '-CAcreateserial',
        '-sha256',
        '-days',
        days,
        '-extfile',
        ext,
        '-out',
        cert,
      ]);
    } finally {
      rmSync(csr, { force: true });
      rmSync(ext, { force: true });
    }
    return { cert, key };
  };

  const san = isIP(hubHost) ? `IP:${hubHost}` : `DNS:${hubHost}`;
  const hub = await sign(join(dir, 'hub'), `/CN=${hubHost}`, [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${san}`,
  ]);
  const devices: CertificateFiles['devices'] = [];
  for (const id of options.devices ?? []) {
    const files = await sign(join(dir, 'devices', id), `/CN=${id}`, [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=clientAuth',
    ]);
    devices.push({ id, ...files });
  }
  // openssl writes without syncing: a power cut in the next half minute, once anything else on the disk has synced,
  // would leave these names empty, and a CA is never made again over its files (test/faults/certs-power-cut.test.ts).
  const written = [caKey, caCert, hub.key, hub.cert, ...devices.flatMap((d) => [d.key, d.cert])];
  for (const file of written) fsyncPath(file);
  for (const folder of [join(dir, 'devices'), dir]) fsyncPath(folder);
  return { ca: { cert: caCert, key: caKey, created: !caExists }, hub, devices };
}

/** Creates the key file 0600 first, then lets openssl write into it. */
async function newKey(ossl: (args: string[]) => Promise<void>, file: string): Promise<void> {
  rmSync(file, { force: true });
  closeSync(openSync(file, 'wx', 0o600));
  await ossl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
  chmodSync(file, 0o600);
}
