/** Locker events (door, phones in or out, tamper): stored exactly once and fsynced; a tamper event opens an incident. */

import type { LockerEvent } from '../../../schemas/messages.js';
import type { DeviceAddress } from '../../../schemas/topics.js';
import type { BatchOp } from '../../db/hub-db.js';
import { summarise } from '../../incidents/incident-store.js';
import type { HandlerOutcome, IngestContext, MessageHandler } from '../ingest-context.js';
import { lockerEventPoint } from '../metric-points.js';

export const handleLockerEvent: MessageHandler<LockerEvent> = async (ctx, ref, event) => {
  const { outbox, bus } = ctx.deps;
  // Bounded memory: with too many events on their way to disk, this device waits here, in its own order.
  await ctx.writes.room(ref.device);
  const past = ctx.isPastChain(ref, event.seq);
  const chainOps = await ctx.checkChain(ref, event, 'locker');
  const duplicate = await duplicateOf(ctx, ref.device, event.id, chainOps, past);
  if (duplicate !== undefined) return duplicate;
  const pointOps = outbox.enqueueOps([lockerEventPoint(ref, event, ctx.deps.now())]);
  const stored = () => {
    outbox.kick();
    ctx.stats.accepted += 1;
    bus.emit('device.locker-event', { ref, event });
  };
  if (event.kind === 'tamper') return storeTamper(ctx, ref, event, [...pointOps, ...chainOps], stored);
  // fsynced too (group commit): the device drops the event once the broker acknowledges it, so it must survive a
  // power cut.
  const ops: BatchOp[] = [
    ...pointOps,
    ...chainOps,
    { type: 'put', sublevel: 'dedupe', key: event.id, value: 'locker-event' },
  ];
  return ctx.pipelined(ctx.writes.submit(ref.device, event.id, ops, undefined), stored);
};

/**
 * A resend: of an event whose write is still on its way to disk (acknowledged when that write is), or of one stored
 * before (acknowledged at once). A chain state the resend changed is still saved. Undefined: not a duplicate.
 * `pastChain`: the event is past every event the device's chain holds, so it cannot be stored yet (no read).
 */
async function duplicateOf(
  ctx: IngestContext,
  device: string,
  eventId: string,
  chainOps: BatchOp[],
  pastChain: boolean,
): Promise<HandlerOutcome | undefined> {
  const inFlight = ctx.writes.inFlight<unknown>(eventId);
  if (inFlight) ctx.stats.duplicates += 1;
  else if (pastChain || !(await ctx.isDuplicate(eventId))) return undefined;
  const chainWritten = chainOps.length > 0 ? ctx.writes.write(device, chainOps) : undefined;
  if (!inFlight && !chainWritten) return true;
  return ctx.pipelined(Promise.all([inFlight, chainWritten]), () => {});
}

/** The event with its incident; the incident's ops carry the dedupe key (pointing at the incident) themselves. */
async function storeTamper(
  ctx: IngestContext,
  ref: DeviceAddress,
  event: LockerEvent,
  eventOps: BatchOp[],
  stored: () => void,
): Promise<HandlerOutcome> {
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
  const written = ctx.writes.submit(
    ref.device,
    event.id,
    [...eventOps, ...prepared.ops, ...ctx.noticeOps(summary)],
    undefined,
  );
  return ctx.pipelined(written, () => {
    ctx.deps.notices?.kick();
    ctx.deps.bus.emit('incident.created', { incident: summary });
    stored();
  });
}
