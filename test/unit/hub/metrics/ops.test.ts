import { describe, expect, it } from 'vitest';
import { healthOf, type OpsSnapshot, OUTBOX_STUCK_MS } from '../../../../hub/http/routes/ops-routes.js';
import { renderPrometheus } from '../../../../hub/metrics/prometheus.js';

const base: OpsSnapshot = {
  mqttClients: 3,
  devicesOnline: 3,
  devicesKnown: 4,
  storeReachable: true,
  outboxDepth: 0,
  outboxDelivered: 10,
  lastStoreWriteAt: 1_000,
  messagesIn: 10,
  messagesOut: 4,
  duplicates: 0,
  reportsStored: 1,
  rejects: {},
  login: { passwordChecks: 0, codeChecks: 0, heldBack: 0 },
  notificationsFailed: false,
  trustOutboxDepth: null,
  storage: { refusingWrites: false, faults: 0 },
};

describe('health and metrics', () => {
  it('is healthy when the store answers and the outbox moves', () => {
    expect(healthOf(base, 2_000)).toEqual({ healthy: true, problems: [] });
  });

  it('is degraded when InfluxDB is unreachable', () => {
    expect(healthOf({ ...base, storeReachable: false }, 2_000).healthy).toBe(false);
  });

  it('is degraded when points wait and nothing was written for too long', () => {
    const stuck = { ...base, outboxDepth: 5, lastStoreWriteAt: 0 };
    expect(healthOf(stuck, OUTBOX_STUCK_MS - 1).healthy).toBe(true);
    expect(healthOf(stuck, OUTBOX_STUCK_MS + 1).problems[0]).toMatch(/outbox holds 5 points/);
  });

  it('R2: is unhealthy while a notice could not be sent after every retry, and says so without counts', () => {
    const health = healthOf({ ...base, notificationsFailed: true }, 2_000);
    expect(health.healthy).toBe(false);
    expect(health.problems).toEqual([
      'a notification could not be sent after every retry (listed on the dashboard)',
    ]);
  });

  it("stays healthy while points wait for the trust's shared store: the school runs the same without its trust", () => {
    expect(healthOf({ ...base, trustOutboxDepth: 500 }, 2_000)).toEqual({ healthy: true, problems: [] });
  });

  it('R1: is degraded while its database refuses writes after a failed one, and says so in plain words', () => {
    const health = healthOf({ ...base, storage: { refusingWrites: true, faults: 1 } }, 2_000);
    expect(health.healthy).toBe(false);
    expect(health.problems).toEqual([
      'the hub could not write to its disk (is it full?) and stores nothing until it can: devices keep their events and reports meanwhile',
    ]);
    // Recovered: the count stays, the problem goes.
    expect(healthOf({ ...base, storage: { refusingWrites: false, faults: 1 } }, 2_000).healthy).toBe(true);
  });

  it('renders Prometheus text with escaped labels', () => {
    const text = renderPrometheus([
      {
        name: 'phones_away_rejects_total',
        help: 'Input rejected, by reason.',
        type: 'counter',
        values: [{ labels: { reason: 'schema: "report"\nx' }, value: 3 }],
      },
    ]);
    expect(text).toBe(
      '# HELP phones_away_rejects_total Input rejected, by reason.\n' +
        '# TYPE phones_away_rejects_total counter\n' +
        'phones_away_rejects_total{reason="schema: \\"report\\"\\nx"} 3\n',
    );
  });
});
