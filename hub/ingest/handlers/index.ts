/**
 * The message types devices may publish, each with its handler (as MQTT.js keeps one file per packet type). A schema
 * with no entry here (commands, acks) is one the hub sends, never one it accepts.
 */

import type { SchemaName, SchemaType } from '../../../schemas/validate.js';
import type { MessageHandler } from '../ingest-context.js';
import { handleAvailability } from './availability.js';
import { handleHeartbeat } from './heartbeat.js';
import { handleLockerEvent } from './locker-event.js';
import { handleLockerState } from './locker-state.js';
import { handleReport } from './report.js';
import { handleSignageState } from './signage-state.js';
import { handleUpdateProgress } from './update-progress.js';

export const handlers: { [N in SchemaName]?: MessageHandler<SchemaType<N>> } = {
  report: handleReport,
  'locker-event': handleLockerEvent,
  'locker-state': handleLockerState,
  'signage-state': handleSignageState,
  heartbeat: handleHeartbeat,
  availability: handleAvailability,
  'update-progress': handleUpdateProgress,
};
