/**
 * Child-process entry for the log sink test: logs through the default logger as fast as a busy hub might, and answers
 * each IPC message with what it has logged and dropped. A process whose logging blocks cannot answer.
 */

import { createLogger } from '../../shared/log.js';
import { stdoutSink } from '../../shared/log-sink.js';

const log = createLogger('log-writer');
let lines = 0;
const pad = 'x'.repeat(100);
setInterval(() => {
  for (let i = 0; i < 20; i++) log.info({ n: lines++, pad }, 'line');
}, 1);
process.on('message', () => {
  process.send?.({ lines, dropped: stdoutSink.dropped, lastError: stdoutSink.lastError });
});
process.on('disconnect', () => process.exit(0));
