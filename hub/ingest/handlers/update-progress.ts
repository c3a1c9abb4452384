/** Update progress (fleet updates): handed to the roll-out (hub/updates/fleet-updates.ts), which records it. */

import type { UpdateProgress } from '../../../schemas/messages.js';
import type { MessageHandler } from '../ingest-context.js';

export const handleUpdateProgress: MessageHandler<UpdateProgress> = async (ctx, ref, progress) => {
  ctx.stats.accepted += 1;
  ctx.deps.bus.emit('device.update-progress', { ref, progress });
  return true;
};
