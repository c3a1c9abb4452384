/** /healthz and /metrics against the real hub: a technician's monitoring sees the store go away and come back. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type HubFixture, startTestHub, waitFor } from '../../support/hub-fixture.js';

describe('operations endpoints', () => {
  let fixture: HubFixture;

  beforeAll(async () => {
    fixture = await startTestHub();
  });

  afterAll(async () => {
    fixture.hub.influxd?.kill('SIGCONT');
    await fixture?.dispose();
  });

  it('GET /healthz is 200 with the broker, store and outbox state', async () => {
    const response = await fetch(`${fixture.hub.httpUrl}/healthz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; influx: { reachable: boolean } };
    expect(body.status).toBe('ok');
    expect(body.influx.reachable).toBe(true);
  });

  it('GET /metrics counts rejects by reason in Prometheus text', async () => {
    await expect(connectClient(fixture.hub.mqttPort, { clientId: 'anon' })).rejects.toThrow();
    const text = await (await fetch(`${fixture.hub.httpUrl}/metrics`)).text();
    expect(text).toContain('# TYPE phones_away_rejects_total counter');
    expect(text).toMatch(/phones_away_rejects_total\{reason="auth: anonymous"\} [1-9]/);
    expect(text).toMatch(/^phones_away_store_up 1$/m);
  });

  it('GET /healthz turns 503 while InfluxDB does not answer, and back to 200 after', async () => {
    fixture.hub.influxd!.kill('SIGSTOP');
    // SIGSTOP reaches influxd's threads asynchronously: ask until the pause has taken hold.
    const down = await waitFor(
      async () => {
        const response = await fetch(`${fixture.hub.httpUrl}/healthz`);
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
});
