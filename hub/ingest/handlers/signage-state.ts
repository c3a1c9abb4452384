/** Signage state: live only (the retained message is the record); nothing is stored. */

import type { SignageState } from '../../../schemas/messages.js';
import type { MessageHandler } from '../ingest-context.js';

export const handleSignageState: MessageHandler<SignageState> = async (ctx, ref, state) => {
  ctx.stats.accepted += 1;
  ctx.deps.bus.emit('device.signage-state', { ref, state });
  return true;
};
