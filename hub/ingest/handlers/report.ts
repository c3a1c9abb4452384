/** Pupil reports: exactly once (a resend finds its incident and is acknowledged again), collapsed beyond the rate. */

import type { Report } from '../../../schemas/messages.js';
import type { DeviceAddress } from '../../../schemas/topics.js';
import type { BatchOp } from '../../db/hub-db.js';
import { REPORT_FLOOD, summarise } from '../../incidents/incident-store.js';
import type {
  Flood,
  HandlerOutcome,
  IngestContext,
  MessageHandler,
  StoredReport,
} from '../ingest-context.js';
import { reportPoint } from '../metric-points.js';

export const handleReport: MessageHandler<Report> = async (ctx, ref, report) => {
  const { incidents, outbox, bus, now } = ctx.deps;
  // Bounded memory: with too many events on their way to disk, this device waits here, in its own order.
  await ctx.writes.room(ref.device);
  const past = ctx.isPastChain(ref, report.seq);
  const chainOps = await ctx.checkChain(ref, report, 'report');
  // A resend while the original's write is still on its way to disk: acknowledged with it, once it is stored.
  const inFlight = ctx.writes.inFlight<StoredReport>(report.id);
  if (inFlight) {
    ctx.stats.duplicates += 1;
    const chainWritten = chainOps.length > 0 ? ctx.writes.write(ref.device, chainOps) : undefined;
    return ctx.pipelined(
      Promise.all([inFlight, chainWritten]).then(([stored]) => stored),
      (stored) => ctx.acknowledge(ref, report.id, stored.ref, stored.receivedAt),
    );
  }
  const existing = past ? undefined : await incidents.findByEvent(report.id);
  if (existing) {
    if (chainOps.length) await ctx.writes.write(ref.device, chainOps);
    ctx.stats.duplicates += 1;
    await ctx.acknowledge(ref, report.id, existing.ref, existing.receivedAt);
    return true;
  }
  const receivedAt = now();
  await ctx.loadRate(ref.device);
  if (ctx.chargeReport(ref.device, report.id, receivedAt) === 'flood') {
    return ctx.settleCharge(report.id, await storeFlooded(ctx, ref, report, chainOps, receivedAt));
  }
  ctx.floods.delete(ref.device);
  // The incident's ops carry the report's dedupe key, so a resend finds this incident.
  const prepared = await incidents.prepare({
    kind: 'report',
    site: ref.site,
    room: ref.room,
    device: ref.device,
    eventId: report.id,
    urgency: report.urgency,
    reportedAt: report.ts,
    receivedAt,
  });
  const summary = summarise(prepared.incident);
  const written = ctx.writes.submit<StoredReport>(
    ref.device,
    report.id,
    [
      ...prepared.ops,
      ...chainOps,
      ...outbox.enqueueOps([reportPoint(ref, report, receivedAt)]),
      ...ctx.rateOps(ref.device),
      ...ctx.noticeOps(summary),
    ],
    { ref: prepared.incident.ref, receivedAt },
  );
  const outcome = ctx.pipelined(written, async () => {
    outbox.kick();
    ctx.stats.accepted += 1;
    ctx.stats.reportsStored += 1;
    // The pupil's ack light first: the publish is queued before the dashboard's listeners run.
    const acknowledged = ctx.acknowledge(ref, report.id, prepared.incident.ref, receivedAt);
    ctx.deps.notices?.kick();
    bus.emit('incident.created', { incident: summary });
    await acknowledged;
  });
  return ctx.settleCharge(report.id, outcome);
};

/**
 * A report beyond the device's rate (one device's credentials pressing without limit). Still stored, fsynced and
 * acknowledged like any other, with its own dedupe key (a resend finds the flood incident), but collapsed: the first
 * opens one urgent tamper incident ('report-flood', one notice), the rest only add to its tally. The tally is counted
 * here, in the device's queue, so reports whose writes are still on their way to disk each count once. Other devices
 * are never queued behind this: each device has its own queue, and a flood's writes share their group commits.
 */
async function storeFlooded(
  ctx: IngestContext,
  ref: DeviceAddress,
  report: Report,
  chainOps: BatchOp[],
  receivedAt: number,
): Promise<HandlerOutcome> {
  const { incidents, outbox, bus } = ctx.deps;
  const point = outbox.enqueueOps([reportPoint(ref, report, receivedAt)]);
  const stored = () => {
    outbox.kick();
    ctx.stats.accepted += 1;
    ctx.stats.reportsStored += 1;
    ctx.stats.reportsCollapsed += 1;
  };
  let flood = ctx.floods.get(ref.device);
  if (flood?.created) {
    // Collapsing into an incident that is not yet on disk could leave dedupe keys pointing at nothing if its write
    // failed: wait for it (one group commit). A failed one is forgotten, and this report opens the flood anew.
    await flood.created.catch(() => undefined);
    flood = ctx.floods.get(ref.device);
  }
  if (flood) {
    flood.tally = { reports: flood.tally.reports + 1, lastAt: receivedAt };
    const { incident } = flood;
    const written = ctx.writes.submit<StoredReport>(
      ref.device,
      report.id,
      [
        ...incidents.floodOps(incident, report.id, flood.tally),
        ...chainOps,
        ...point,
        ...ctx.rateOps(ref.device),
      ],
      { ref: incident.ref, receivedAt },
    );
    const counted = flood;
    written.catch(() => {
      // Not stored, so not counted: its resend counts it once it is (a full disk must not inflate the tally).
      if (ctx.floods.get(ref.device) === counted)
        counted.tally = { ...counted.tally, reports: counted.tally.reports - 1 };
    });
    return ctx.pipelined(written, async () => {
      stored();
      await ctx.acknowledge(ref, report.id, incident.ref, receivedAt);
    });
  }
  const prepared = await incidents.prepare({
    kind: 'tamper',
    site: ref.site,
    room: ref.room,
    device: ref.device,
    eventId: report.id,
    urgency: 'urgent',
    reportedAt: report.ts,
    receivedAt,
    tamperReason: REPORT_FLOOD,
  });
  const { incident } = prepared;
  const tally = { reports: 1, lastAt: receivedAt };
  const opened: Flood = { incident, tally };
  ctx.floods.set(ref.device, opened);
  const summary = summarise(incident);
  const written = ctx.writes.submit<StoredReport>(
    ref.device,
    report.id,
    [
      ...prepared.ops,
      ...incidents.floodOps(incident, report.id, tally),
      ...chainOps,
      ...point,
      ...ctx.rateOps(ref.device),
      ...ctx.noticeOps(summary),
    ],
    { ref: incident.ref, receivedAt },
  );
  opened.created = written.then(
    () => {
      opened.created = undefined;
    },
    (error: unknown) => {
      if (ctx.floods.get(ref.device) === opened) ctx.floods.delete(ref.device);
      throw error;
    },
  );
  opened.created.catch(() => undefined); // its failure is this report's, reported through `written`
  return ctx.pipelined(written, async () => {
    ctx.deps.log.warn({ device: ref.device, ref: incident.ref }, 'report flood: later reports collapsed');
    ctx.deps.notices?.kick();
    bus.emit('incident.created', { incident: summary });
    stored();
    await ctx.acknowledge(ref, report.id, incident.ref, receivedAt);
  });
}
