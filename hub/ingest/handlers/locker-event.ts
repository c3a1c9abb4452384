/** Locker events (door, phones in or out, tamper): stored exactly once and fsynced; a tamper event opens an incident. */

import type { LockerEvent } from '../../../schemas/messages.js';
import type { DeviceAddress } from '../../../schemas/topics.js';
import type { BatchOp } from '../../db/hub-db.js';
import { summarise } from '../../incidents/incident-store.js';
import type { IngestContext, MessageHandler } from '../ingest-context.js';
import { lockerEventPoint } from '../metric-points.js';

export const handleLockerEvent: MessageHandler<LockerEvent> = async (ctx, ref, event) => {
  const { outbox, bus } = ctx.deps;
  const chainOps = await ctx.checkChain(ref, event, 'locker');
  if (await ctx.isDuplicate(event.id)) {
    if (chainOps.length) await ctx.deps.db.batch(chainOps);
    return true;
  }
  const pointOps = outbox.enqueueOps([lockerEventPoint(ref, event, ctx.deps.now())]);
  if (event.kind === 'tamper') {
    await storeTamper(ctx, ref, event, [...pointOps, ...chainOps]);
  } else {
    // fsynced too: the device drops the event once the broker acknowledges it, so it must survive a power cut.
    await ctx.deps.db.batch(
      [...pointOps, ...chainOps, { type: 'put', sublevel: 'dedupe', key: event.id, value: 'locker-event' }],
      { sync: true },
    );
  }
  outbox.kick();
  ctx.stats.accepted += 1;
  bus.emit('device.locker-event', { ref, event });
  return true;
};

/** The event with its incident; the incident's ops carry the dedupe key (pointing at the incident) themselves. */
async function storeTamper(ctx: IngestContext, ref: DeviceAddress, event: LockerEvent, eventOps: BatchOp[]) {
  const prepared = await ctx.deps.incidents.prepare({
    kind: 'tamper',
    site: ref.site,
    room: ref.room,
    device: ref.device,
    eventId: event.id,
    urgency: 'urgent',
    reportedAt: event.ts,
    receivedAt: ctx.deps.now(),
    ...(event.reason ? { tamperReason: event.reason } : {}),
  });
  const summary = summarise(prepared.incident);
  await ctx.deps.db.batch([...eventOps, ...prepared.ops, ...ctx.noticeOps(summary)], { sync: true });
  ctx.deps.notices?.kick();
  ctx.deps.bus.emit('incident.created', { incident: summary });
}
