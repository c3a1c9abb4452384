/** Pure mapping from validated device messages to time-series points. Tags are room-level: never a pupil (D1, D5). */
import type { Heartbeat, LockerEvent, LockerState, Report } from '../../schemas/messages.js';
import type { DeviceAddress } from '../../schemas/topics.js';
import type { MetricPoint } from '../store/metrics-store.js';

const tagsOf = (a: DeviceAddress) => ({ site: a.site, room: a.room, device: a.device });
/** Whether the device clock was synchronised (absent from older devices): lets a query discount untrusted ts. */
const clockField = (e: { clockSynced?: boolean }): Record<string, boolean> =>
  e.clockSynced === undefined ? {} : { clock_synced: e.clockSynced };

/**
 * The point's time: the device's clock when it says it is synchronised (or does not say: older devices), else the
 * hub's receive time. A Pi has no real-time clock, so an unsynchronised one can be hours out; the hub's is trusted.
 */
export const pointTime = (e: { ts: number; clockSynced?: boolean }, receivedAt: number): number =>
  e.clockSynced === false ? receivedAt : e.ts;

export function reportPoint(a: DeviceAddress, report: Report, receivedAt: number): MetricPoint {
  return {
    measurement: 'report',
    tags: { ...tagsOf(a), urgency: report.urgency },
    fields: {
      count: 1,
      queued_ms: report.queuedMs,
      delay_ms: Math.max(0, receivedAt - report.ts),
      seq: report.seq,
      ...clockField(report),
    },
    ts: pointTime(report, receivedAt),
    subMsNs: report.seq % 1_000_000,
  };
}

export function lockerEventPoint(a: DeviceAddress, event: LockerEvent, receivedAt: number): MetricPoint {
  return {
    measurement: 'locker_event',
    tags: { ...tagsOf(a), kind: event.kind, ...(event.reason ? { reason: event.reason } : {}) },
    fields: { phones: event.phones, seq: event.seq, ...clockField(event) },
    ts: pointTime(event, receivedAt),
    subMsNs: event.seq % 1_000_000,
  };
}

export function lockerStatePoint(a: DeviceAddress, state: LockerState): MetricPoint {
  return {
    measurement: 'locker_state',
    tags: { ...tagsOf(a), mode: state.mode },
    fields: { locked: state.locked, door_open: state.doorOpen, phones: state.phones, key_on: state.keyOn },
    ts: state.ts,
  };
}

export function heartbeatPoint(a: DeviceAddress, hb: Heartbeat, receivedAt: number): MetricPoint {
  return {
    measurement: 'heartbeat',
    tags: tagsOf(a),
    fields: {
      uptime_s: hb.uptimeS,
      queued: hb.queued,
      software: hb.software,
      ...clockField(hb),
      ...(hb.boardConnected === undefined ? {} : { board_connected: hb.boardConnected }),
    },
    ts: pointTime(hb, receivedAt),
    subMsNs: hb.seq % 1_000_000,
  };
}
