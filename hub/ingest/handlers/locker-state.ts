/** Locker state (retained): a metric point only, pipelined behind the device's earlier writes. */

import type { LockerState } from '../../../schemas/messages.js';
import type { MessageHandler } from '../ingest-context.js';
import { lockerStatePoint } from '../metric-points.js';

export const handleLockerState: MessageHandler<LockerState> = async (ctx, ref, state) =>
  ctx.pipelined(ctx.deps.outbox.enqueue([lockerStatePoint(ref, state)]), () => {
    ctx.stats.accepted += 1;
    ctx.deps.bus.emit('device.locker-state', { ref, state });
  });
