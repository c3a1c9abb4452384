/**
 * /healthz and /metrics against the real hub: a technician's monitoring sees the store go away and come back. S7: the
 * figures need the operations bearer token (a Prometheus credentials_file); without it, someone on the school network
 * polling the hub learns only whether it is healthy, never a count that moves when a pupil reports.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type HubFixture, startTestHub, waitFor } from '../../../support/hub-fixture.js';

const TOKEN = 'scrape-token-0123456789abcdef';
const bearer = { authorization: `Bearer ${TOKEN}` };

describe('operations endpoints', () => {
  let fixture: HubFixture;
  const dir = mkdtempSync(join(tmpdir(), 'pa-ops-'));

  beforeAll(async () => {
    writeFileSync(join(dir, 'metrics.token'), `${TOKEN}\n`, { mode: 0o600 });
    fixture = await startTestHub({ config: { metrics: { credentialsFile: join(dir, 'metrics.token') } } });
  });

  afterAll(async () => {
    fixture.hub.influxd?.kill('SIGCONT');
    await fixture?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('S7: /metrics refuses no token and a wrong one (401), and answers the right one', async () => {
    const url = `${fixture.hub.httpUrl}/metrics`;
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrongs = [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, TOKEN, 'Bearer '];
    for (const authorization of wrongs) {
      const response = await fetch(url, { headers: { authorization } });
      expect(response.status, authorization).toBe(401);
      expect(await response.text()).not.toContain('phones_away_');
    }
    const right = await fetch(url, { headers: bearer });
    expect(right.status).toBe(200);
    expect(await right.text()).toMatch(/^phones_away_reports_stored_total \d+$/m);
  });

  it('S7: unauthenticated /healthz and /api/health say only healthy or not', async () => {
    const healthz = await fetch(`${fixture.hub.httpUrl}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toEqual({ status: 'ok' });
    const api = await fetch(`${fixture.hub.httpUrl}/api/health`);
    expect(await api.json()).toEqual({ status: 'ok', data: { healthy: true } });
    // With the token, the figures are there (so the bare answers above are a choice, not an empty hub).
    const detailed = (await (
      await fetch(`${fixture.hub.httpUrl}/api/health`, { headers: bearer })
    ).json()) as {
      data: Record<string, unknown>;
    };
    expect(detailed.data).toMatchObject({ healthy: true, ingest: { reportsStored: expect.any(Number) } });
  });

  it('GET /healthz with the token is 200 with the broker, store and outbox state', async () => {
    const response = await fetch(`${fixture.hub.httpUrl}/healthz`, { headers: bearer });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; influx: { reachable: boolean } };
    expect(body.status).toBe('ok');
    expect(body.influx.reachable).toBe(true);
  });

  it('GET /metrics counts rejects by reason in Prometheus text', async () => {
    await expect(connectClient(fixture.hub.mqttPort, { clientId: 'anon' })).rejects.toThrow();
    const text = await (await fetch(`${fixture.hub.httpUrl}/metrics`, { headers: bearer })).text();
    expect(text).toContain('# TYPE phones_away_rejects_total counter');
    expect(text).toMatch(/phones_away_rejects_total\{reason="auth: anonymous"\} [1-9]/);
    expect(text).toMatch(/^phones_away_store_up 1$/m);
    // The private influxd's restarts (hub/influx/influxd-supervisor.ts) and lost log lines, both none here.
    expect(text).toMatch(/^phones_away_influxd_restarts_total 0$/m);
    expect(text).toMatch(/^phones_away_log_lines_dropped_total 0$/m);
  });

  it('GET /healthz turns 503 while InfluxDB does not answer, and back to 200 after', async () => {
    fixture.hub.influxd!.kill('SIGSTOP');
    // SIGSTOP reaches influxd's threads asynchronously: ask until the pause has taken hold.
    const down = await waitFor(
      async () => {
        const response = await fetch(`${fixture.hub.httpUrl}/healthz`, { headers: bearer });
        return response.status === 503 ? response : null;
      },
      'healthz 503',
      20_000,
    );
    expect(((await down.json()) as { problems: string[] }).problems[0]).toMatch(/InfluxDB is not reachable/);
    fixture.hub.influxd!.kill('SIGCONT');
    await waitFor(
      async () => (await fetch(`${fixture.hub.httpUrl}/healthz`)).status === 200,
      'healthy again',
      20_000,
    );
  });

  it('S7: unauthenticated /healthz is 503 with no reasons while the hub is unhealthy', async () => {
    fixture.hub.influxd!.kill('SIGSTOP');
    const down = await waitFor(
      async () => {
        const response = await fetch(`${fixture.hub.httpUrl}/healthz`);
        return response.status === 503 ? response : null;
      },
      'healthz 503',
      20_000,
    );
    expect(await down.json()).toEqual({ status: 'degraded' });
    fixture.hub.influxd!.kill('SIGCONT');
    await waitFor(
      async () => (await fetch(`${fixture.hub.httpUrl}/healthz`)).status === 200,
      'healthy again',
      20_000,
    );
  });
});

describe('operations endpoints without a metrics token configured', () => {
  it('S7: /metrics is off (404), whatever token is sent', async () => {
    const fixture = await startTestHub();
    try {
      for (const headers of [{}, bearer]) {
        const response = await fetch(`${fixture.hub.httpUrl}/metrics`, { headers });
        expect(response.status).toBe(404);
        expect(await response.text()).toContain('metrics.credentialsFile');
      }
    } finally {
      await fixture.dispose();
    }
  });
});
