/**
 * Device message ingest: topic → schema → dedupe → durable store → acknowledgement. Bad input is rejected with a
 * reason, counted and logged; it never throws out of here and never changes state. Each accepted message type has
 * its own handler in handlers/; this module only checks the envelope and dispatches.
 */

import { parseTopic, schemaFor } from '../../schemas/topics.js';
import { parsePayload, type SchemaName, type SchemaType } from '../../schemas/validate.js';
import type { DevicePublish } from '../broker/broker.js';
import { handlers } from './handlers/index.js';
import {
  type HandlerOutcome,
  IngestContext,
  type IngestDeps,
  type IngestStats,
  type MessageHandler,
} from './ingest-context.js';
import { KeyedQueue } from './keyed-queue.js';

export class Ingest {
  private readonly ctx: IngestContext;
  private readonly queue = new KeyedQueue();

  constructor(private readonly deps: IngestDeps) {
    this.ctx = new IngestContext(deps);
  }

  get stats(): IngestStats {
    return this.ctx.stats;
  }

  private reject(reason: string, message: DevicePublish, detail?: string): false {
    this.deps.rejects.add(reason);
    this.deps.log.warn(
      { reason, detail, topic: message.topic, device: message.principal.id },
      'message rejected',
    );
    this.deps.bus.emit('ingest.rejected', { reason, topic: message.topic, clientId: message.principal.id });
    return false;
  }

  /**
   * Checked one at a time per device, so a resend racing its original is seen as the duplicate it is; the writes
   * are pipelined beneath (ctx.writes: one fsynced group commit for many devices' events, each device's in the order
   * it sent them). Resolves true once the message is durably stored (or was a duplicate), false when it was
   * rejected; throws when storage failed, so the broker withholds its acknowledgement and the device resends.
   */
  handle(message: DevicePublish): Promise<boolean> {
    let outcome: HandlerOutcome = false;
    return this.queue
      .run(message.principal.id, async () => {
        outcome = await this.process(message);
      })
      .then(() => (typeof outcome === 'boolean' ? outcome : outcome.stored));
  }

  private async process(message: DevicePublish): Promise<HandlerOutcome> {
    const topic = parseTopic(message.topic);
    if (!topic) return this.reject('topic: not in the phones-away tree', message);
    const schema = schemaFor(topic);
    const parsed = parsePayload(schema, message.payload);
    if (!parsed.ok) return this.reject(`schema: ${schema}`, message, parsed.error.problems.join('; '));
    const envelope = parsed.value as { id?: unknown; seq?: unknown };
    if (typeof envelope.id === 'string' && envelope.id !== `${topic.address.device}:${envelope.seq}`) {
      return this.reject('event id does not match device and seq', message);
    }
    // The value was validated against `schema`, which is the key its handler is filed under, so the types agree.
    const handler = handlers[schema] as MessageHandler<SchemaType<SchemaName>> | undefined;
    if (!handler) return this.reject(`schema: ${schema} is not accepted from devices`, message);
    return handler(this.ctx, topic.address, parsed.value);
  }
}
