/** Pupil reports: exactly once (a resend finds its incident and is acknowledged again), collapsed beyond the rate. */

import type { Report } from '../../../schemas/messages.js';
import type { DeviceAddress } from '../../../schemas/topics.js';
import type { BatchOp } from '../../db/hub-db.js';
import { type Incident, REPORT_FLOOD, summarise } from '../../incidents/incident-store.js';
import type { IngestContext, MessageHandler } from '../ingest-context.js';
import { reportPoint } from '../metric-points.js';

export const handleReport: MessageHandler<Report> = async (ctx, ref, report) => {
  const { incidents, outbox, bus, now } = ctx.deps;
  const chainOps = await ctx.checkChain(ref, report, 'report');
  const existing = await incidents.findByEvent(report.id);
  if (existing) {
    if (chainOps.length) await ctx.deps.db.batch(chainOps);
    ctx.stats.duplicates += 1;
    await ctx.acknowledge(ref, report.id, existing.ref, existing.receivedAt);
    return true;
  }
  const receivedAt = now();
  if (ctx.rate.take(ref.device, receivedAt) === 'flood') {
    await storeFlooded(ctx, ref, report, chainOps, receivedAt);
    return true;
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
  await ctx.deps.db.batch(
    [
      ...prepared.ops,
      ...chainOps,
      ...outbox.enqueueOps([reportPoint(ref, report, receivedAt)]),
      ...ctx.noticeOps(summary),
    ],
    { sync: true },
  );
  outbox.kick();
  ctx.stats.accepted += 1;
  ctx.stats.reportsStored += 1;
  // The pupil's ack light first: the publish is queued before the dashboard's listeners run.
  const acknowledged = ctx.acknowledge(ref, report.id, prepared.incident.ref, receivedAt);
  ctx.deps.notices?.kick();
  bus.emit('incident.created', { incident: summary });
  await acknowledged;
  return true;
};

/**
 * A report beyond the device's rate (one device's credentials pressing without limit). Still stored, fsynced and
 * acknowledged like any other, but collapsed: the first opens one urgent tamper incident ('report-flood', one
 * notice), the rest only add to its tally. Other devices are never queued behind this: each device has its own queue.
 */
async function storeFlooded(
  ctx: IngestContext,
  ref: DeviceAddress,
  report: Report,
  chainOps: BatchOp[],
  receivedAt: number,
): Promise<void> {
  const { incidents, outbox, bus } = ctx.deps;
  const floodId = ctx.floods.get(ref.device);
  const existing = floodId ? await incidents.get(floodId) : undefined;
  const point = outbox.enqueueOps([reportPoint(ref, report, receivedAt)]);
  let incident: Incident;
  if (existing) {
    incident = existing;
    const tally = { reports: (existing.flood?.reports ?? 1) + 1, lastAt: receivedAt };
    await ctx.deps.db.batch([...incidents.floodOps(existing, report.id, tally), ...chainOps, ...point], {
      sync: true,
    });
  } else {
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
    incident = prepared.incident;
    const summary = summarise(incident);
    await ctx.deps.db.batch(
      [
        ...prepared.ops,
        ...incidents.floodOps(incident, report.id, { reports: 1, lastAt: receivedAt }),
        ...chainOps,
        ...point,
        ...ctx.noticeOps(summary),
      ],
      { sync: true },
    );
    ctx.floods.set(ref.device, incident.id);
    ctx.deps.log.warn({ device: ref.device, ref: incident.ref }, 'report flood: later reports collapsed');
    ctx.deps.notices?.kick();
    bus.emit('incident.created', { incident: summary });
  }
  outbox.kick();
  ctx.stats.accepted += 1;
  ctx.stats.reportsStored += 1;
  ctx.stats.reportsCollapsed += 1;
  await ctx.acknowledge(ref, report.id, incident.ref, receivedAt);
}
