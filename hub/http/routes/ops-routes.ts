/**
 * Operations endpoints for the school's technician and monitoring: `GET /healthz` (200 when healthy, 503 when not)
 * and Prometheus `GET /metrics`. Counts and states only: no secrets, nothing about pupils. Even counts tell something
 * (reports_stored_total moves when a pupil reports), so /metrics and the details of /healthz need the operations
 * bearer token (S7); without it /healthz says only ok or degraded.
 */

import { Healthz } from '../../../schemas/api.js';
import type { RestartReason } from '../../influx/influxd-supervisor.js';
import { renderPrometheus, type Sample } from '../../metrics/prometheus.js';
import type { RouteModule } from '../http-server.js';

export interface OpsSnapshot {
  mqttClients: number;
  devicesOnline: number;
  devicesKnown: number;
  storeReachable: boolean;
  outboxDepth: number;
  outboxDelivered: number;
  lastStoreWriteAt: number | null;
  messagesIn: number;
  messagesOut: number;
  duplicates: number;
  reportsStored: number;
  rejects: Record<string, number>;
  /** S1: passwords and codes checked at sign-in, and attempts held back by a limit without a check. */
  login: { passwordChecks: number; codeChecks: number; heldBack: number };
  /** Some notice could not be sent after every retry (which, only signed in: /api/notifications/failed). */
  notificationsFailed: boolean;
  /**
   * Points waiting for the trust's shared store; null when the hub shares nothing with a trust. Not a health problem:
   * the school runs the same without its trust, and the points wait on disk.
   */
  trustOutboxDepth: number | null;
  /**
   * The hub's database, or its broker's, after a failed write (a full disk): writes are refused until it has been
   * reopened, so devices keep their events and reports meanwhile (hub/db/log-fault.ts). `faults`: such failures since
   * start, both databases together.
   */
  storage: { refusingWrites: boolean; faults: number };
  /**
   * The private influxd (embedded mode; null for an external one): started again after it exited, hung, or after its
   * disk filled (hub/influx/influxd-supervisor.ts). `restarting` says why a restart is due and has not happened yet.
   */
  influxd: { restarts: number; restarting: RestartReason | null } | null;
  /** Log lines the hub could not write to its standard output (a full disk under a log file) since start. */
  logLinesDropped: number;
}

/** The outbox is "stuck" when points wait and nothing reached the store for this long. */
export const OUTBOX_STUCK_MS = 5 * 60 * 1000;

/** Why InfluxDB is away while the hub starts it again, said in place of "not reachable". */
const INFLUXD_RESTARTING: Record<RestartReason, string> = {
  'disk full':
    'InfluxDB could not write to its disk (is it full?): it is started again once there is room, and compliance records wait in the hub meanwhile',
  exited: 'InfluxDB stopped and is being started again (compliance records wait in the hub meanwhile)',
  hung: 'InfluxDB stopped answering and is being started again (compliance records wait in the hub meanwhile)',
  'start failed':
    'InfluxDB could not be started; the hub keeps trying (compliance records wait in the hub meanwhile, and reports are handled as usual)',
};

export function healthOf(s: OpsSnapshot, now: number): { healthy: boolean; problems: string[] } {
  const problems: string[] = [];
  if (s.storage.refusingWrites)
    problems.push(
      'the hub could not write to its disk (is it full?) and stores nothing until it can: devices keep their events and reports meanwhile',
    );
  const restarting = s.influxd?.restarting;
  if (restarting) problems.push(INFLUXD_RESTARTING[restarting]);
  else if (!s.storeReachable) problems.push('InfluxDB is not reachable (events wait in the outbox)');
  if (s.outboxDepth > 0 && (s.lastStoreWriteAt === null || now - s.lastStoreWriteAt > OUTBOX_STUCK_MS)) {
    problems.push(`outbox holds ${s.outboxDepth} points and nothing was written for over 5 minutes`);
  }
  if (s.notificationsFailed)
    problems.push('a notification could not be sent after every retry (listed on the dashboard)');
  return { healthy: problems.length === 0, problems };
}

export function opsRoutes(snapshot: () => Promise<OpsSnapshot>): RouteModule {
  return (app, kit) => {
    app.get(
      '/healthz',
      { config: { produces: 'application/json', response: Healthz } },
      async (request, reply) => {
        const s = await snapshot();
        const { healthy, problems } = healthOf(s, kit.now());
        const status = healthy ? 'ok' : 'degraded';
        if (kit.operator(request) !== 'ok') return reply.code(healthy ? 200 : 503).send({ status });
        return reply.code(healthy ? 200 : 503).send({
          status,
          problems,
          broker: { clients: s.mqttClients },
          devices: { online: s.devicesOnline, known: s.devicesKnown },
          influx: { reachable: s.storeReachable, lastSuccessfulWriteAt: s.lastStoreWriteAt },
          outbox: { depth: s.outboxDepth },
          ...(s.trustOutboxDepth === null ? {} : { trust: { outboxDepth: s.trustOutboxDepth } }),
        });
      },
    );

    app.get('/metrics', { config: { produces: 'text/plain' } }, async (request, reply) => {
      const access = kit.operator(request);
      if (access === 'off')
        return kit.fail(
          reply,
          404,
          'E_METRICS_OFF',
          'metrics are off: set metrics.credentialsFile in the hub config',
        );
      if (access === 'refused')
        return kit
          .fail(reply, 401, 'E_METRICS_AUTH', 'a bearer token is required (metrics.credentialsFile)')
          .header('www-authenticate', 'Bearer realm="phones-away metrics"');
      const s = await snapshot();
      const samples: Sample[] = [
        {
          name: 'phones_away_messages_in_total',
          help: 'Device messages accepted.',
          type: 'counter',
          values: [{ value: s.messagesIn }],
        },
        {
          name: 'phones_away_messages_out_total',
          help: 'Commands and acknowledgements sent to devices.',
          type: 'counter',
          values: [{ value: s.messagesOut }],
        },
        {
          name: 'phones_away_duplicates_total',
          help: 'Resent events recognised and not stored again.',
          type: 'counter',
          values: [{ value: s.duplicates }],
        },
        {
          name: 'phones_away_reports_stored_total',
          help: 'Report button presses stored as incidents.',
          type: 'counter',
          values: [{ value: s.reportsStored }],
        },
        {
          name: 'phones_away_rejects_total',
          help: 'Input rejected, by reason.',
          type: 'counter',
          values: Object.entries(s.rejects).map(([reason, value]) => ({ labels: { reason }, value })),
        },
        {
          name: 'phones_away_login_checks_total',
          help: 'Passwords and second-factor codes checked at sign-in (each a counted attempt).',
          type: 'counter',
          values: [
            { labels: { factor: 'password' }, value: s.login.passwordChecks },
            { labels: { factor: 'code' }, value: s.login.codeChecks },
          ],
        },
        {
          name: 'phones_away_login_held_back_total',
          help: 'Sign-in attempts refused by a limit without any check.',
          type: 'counter',
          values: [{ value: s.login.heldBack }],
        },
        {
          name: 'phones_away_storage_refusing_writes',
          help: "1 while the hub's database refuses writes after a failed one (a full disk), until it is reopened.",
          type: 'gauge',
          values: [{ value: s.storage.refusingWrites ? 1 : 0 }],
        },
        {
          name: 'phones_away_storage_faults_total',
          help: "Failed writes to the hub's database that made it refuse writes until reopened.",
          type: 'counter',
          values: [{ value: s.storage.faults }],
        },
        ...(s.influxd === null
          ? []
          : [
              {
                name: 'phones_away_influxd_restarts_total',
                help: 'Times the private influxd was started again, after it exited, hung or its disk filled.',
                type: 'counter' as const,
                values: [{ value: s.influxd.restarts }],
              },
            ]),
        {
          name: 'phones_away_log_lines_dropped_total',
          help: 'Log lines that could not be written (is the disk under the log full?).',
          type: 'counter',
          values: [{ value: s.logLinesDropped }],
        },
        {
          name: 'phones_away_outbox_depth',
          help: 'Points waiting for InfluxDB.',
          type: 'gauge',
          values: [{ value: s.outboxDepth }],
        },
        {
          name: 'phones_away_outbox_delivered_total',
          help: 'Points written to InfluxDB since start.',
          type: 'counter',
          values: [{ value: s.outboxDelivered }],
        },
        ...(s.trustOutboxDepth === null
          ? []
          : [
              {
                name: 'phones_away_trust_outbox_depth',
                help: "Points waiting for the trust's shared InfluxDB.",
                type: 'gauge' as const,
                values: [{ value: s.trustOutboxDepth }],
              },
            ]),
        {
          name: 'phones_away_store_up',
          help: '1 when InfluxDB answers.',
          type: 'gauge',
          values: [{ value: s.storeReachable ? 1 : 0 }],
        },
        {
          name: 'phones_away_mqtt_clients',
          help: 'Connected MQTT clients.',
          type: 'gauge',
          values: [{ value: s.mqttClients }],
        },
        {
          name: 'phones_away_devices_online',
          help: 'Devices online now.',
          type: 'gauge',
          values: [{ value: s.devicesOnline }],
        },
      ];
      return reply
        .header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
        .send(renderPrometheus(samples));
    });
  };
}
