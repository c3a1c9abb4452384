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
  influxd: { restarts: 0, restarting: null },
  logLinesDropped: 0,
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

  it('D5: says in plain words why InfluxDB is away while the hub starts it again, in place of "not reachable"', () => {
    const full = healthOf(
      { ...base, storeReachable: true, influxd: { restarts: 0, restarting: 'disk full' } },
      2_000,
    );
    expect(full).toEqual({
      healthy: false,
      problems: [
        'InfluxDB could not write to its disk (is it full?): it is started again once there is room, and compliance records wait in the hub meanwhile',
      ],
    });
    const exited = healthOf(
      { ...base, storeReachable: false, influxd: { restarts: 2, restarting: 'exited' } },
      2_000,
    );
    expect(exited.problems).toEqual([
      'InfluxDB stopped and is being started again (compliance records wait in the hub meanwhile)',
    ]);
    expect(
      healthOf({ ...base, storeReachable: false, influxd: { restarts: 0, restarting: 'hung' } }, 2_000)
        .problems,
    ).toEqual([
      'InfluxDB stopped answering and is being started again (compliance records wait in the hub meanwhile)',
    ]);
    expect(
      healthOf(
        { ...base, storeReachable: false, influxd: { restarts: 0, restarting: 'start failed' } },
        2_000,
      ).problems,
    ).toEqual([
      'InfluxDB could not be started; the hub keeps trying (compliance records wait in the hub meanwhile, and reports are handled as usual)',
    ]);
    // Started again: past restarts are a count on /metrics, not a problem.
    expect(healthOf({ ...base, influxd: { restarts: 3, restarting: null } }, 2_000).healthy).toBe(true);
    // An external InfluxDB has no supervisor: unreachable is said as before.
    expect(healthOf({ ...base, storeReachable: false, influxd: null }, 2_000).problems).toEqual([
      'InfluxDB is not reachable (events wait in the outbox)',
    ]);
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
