/** S7: the dashboard over HTTPS with the school's own CA, and session cookies marked Secure. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CertificateFiles, makeCertificates } from '../../../../hub/devices/certificates.js';
import { type HubFixture, startTestHub } from '../../../support/hub-fixture.js';

function get(url: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, servername: 'localhost' }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard over HTTPS (S7)', () => {
  let dir: string;
  let certs: CertificateFiles;
  let fixture: HubFixture;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phones-away-https-'));
    certs = await makeCertificates({ dir: join(dir, 'pki'), hubHost: 'localhost' });
    fixture = await startTestHub({
      config: { http: { host: '127.0.0.1', port: 0, tls: { cert: certs.hub.cert, key: certs.hub.key } } },
    });
  });

  afterAll(async () => {
    await fixture?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the API over TLS to a client that trusts the school CA', async () => {
    expect(fixture.hub.httpUrl).toMatch(/^https:\/\//);
    const response = await get(`${fixture.hub.httpUrl}/healthz`, readFileSync(certs.ca.cert));
    expect(response.status).toBe(200);
  });

  it('refuses a client that does not trust the school CA', async () => {
    await expect(get(`${fixture.hub.httpUrl}/healthz`)).rejects.toThrow(
      /self[- ]signed|unable to verify|certificate/i,
    );
  });
});
