/** Availability (online, or the last will): live only; nothing is stored. */

import type { Availability } from '../../../schemas/messages.js';
import type { MessageHandler } from '../ingest-context.js';

export const handleAvailability: MessageHandler<Availability> = async (ctx, ref, availability) => {
  ctx.stats.accepted += 1;
  ctx.deps.bus.emit('device.availability', { ref, availability });
  return true;
};
