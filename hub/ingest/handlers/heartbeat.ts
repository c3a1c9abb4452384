/** Heartbeats: last-seen, the live grid and the chain's gap checks; a sampled metric point. */

import type { Heartbeat } from '../../../schemas/messages.js';
import type { MessageHandler } from '../ingest-context.js';
import { heartbeatPoint } from '../metric-points.js';

export const handleHeartbeat: MessageHandler<Heartbeat> = async (ctx, ref, heartbeat) => {
  const { deps } = ctx;
  const chainOps =
    (await deps.chain?.observe(ref, {
      kind: 'heartbeat',
      seq: heartbeat.seq,
      queued: heartbeat.queued,
      ...(heartbeat.prev ? { prev: heartbeat.prev } : {}),
    })) ?? [];
  // Telemetry: its point takes the outbox's memory lane (no disk write per heartbeat). A changed chain state
  // (rare: a gap window extended) is still written, pipelined behind the device's earlier writes.
  const at = deps.now();
  const last = ctx.heartbeatPointAt.get(ref.device);
  if (last === undefined || at - last >= (deps.heartbeatPointMs ?? 60_000) || at < last) {
    ctx.heartbeatPointAt.set(ref.device, at);
    deps.outbox.offer(heartbeatPoint(ref, heartbeat, at));
  }
  const seen = () => {
    deps.registry.touch(ref.device, { lastSeen: deps.now(), software: heartbeat.software });
    ctx.stats.accepted += 1;
    deps.bus.emit('device.heartbeat', { ref, heartbeat });
  };
  if (chainOps.length > 0) return ctx.pipelined(ctx.writes.write(ref.device, chainOps), seen);
  seen();
  return true;
};
