/**
 * schemas/asyncapi.json: valid AsyncAPI 3.0 by the specification's own JSON Schema (@asyncapi/specs, with the MQTT
 * bindings it bundles), generated from the current sources (`npm run check` also fails when it is stale), and true to
 * the topic tree: every channel address is one `parseTopic` accepts, every payload the schema the hub validates with.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { asyncApiDocument } from '../../../schemas/asyncapi.js';
import { parseTopic, schemaFor } from '../../../schemas/topics.js';
import { allSchemas } from '../../../schemas/validate.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const require = createRequire(import.meta.url);
const spec = require('@asyncapi/specs/schemas/3.0.0-without-$id.json') as object;
const committed = JSON.parse(
  readFileSync(new URL('../../../schemas/asyncapi.json', import.meta.url), 'utf8'),
);

interface Doc {
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
  operations: Record<string, { action: string; bindings: { mqtt: { qos: number; retain: boolean } } }>;
  components: { messages: Record<string, { name: string }>; schemas: Record<string, unknown> };
}

describe('AsyncAPI 3 document of the MQTT topic tree', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(spec);

  it('is valid by the AsyncAPI 3.0.0 specification schema', () => {
    const ok = validate(committed);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('fails that validation when broken (the check can fail)', () => {
    const broken = structuredClone(committed);
    broken.operations.receiveEventReport.action = 'publish'; // AsyncAPI 2 wording, not 3
    expect(validate(broken)).toBe(false);
    const badQos = structuredClone(committed);
    badQos.operations.receiveEventReport.bindings.mqtt.qos = 5; // the MQTT binding's own schema is checked too
    expect(validate(badQos)).toBe(false);
  });

  it('is what the generator makes from the current sources (no hand edits, not stale)', () => {
    const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(asyncApiDocument(version))));
  });

  it('R1: each channel is a topic the hub parses, carrying the schema the hub validates it with', () => {
    const doc = committed as Doc;
    const sample = { '{site}': 'site-a', '{room}': 'room-1', '{device}': 'room-1-locker' };
    // availability, 2 states, 4 events (locker, report, heartbeat, update), 4 commands (lock, signage, schedule, update), ack
    expect(Object.keys(doc.channels)).toHaveLength(12);
    for (const channel of Object.values(doc.channels)) {
      const topic = channel.address.replace(
        /\{site\}|\{room\}|\{device\}/g,
        (p) => sample[p as keyof typeof sample],
      );
      const parsed = parseTopic(topic);
      expect(parsed, channel.address).not.toBeNull();
      const [ref] = Object.values(channel.messages);
      const message = doc.components.messages[ref?.$ref.split('/').pop() ?? ''];
      const name = schemaFor(parsed!);
      expect(message?.name).toBe(name);
      const { $id: _id, ...expected } = JSON.parse(JSON.stringify(allSchemas[name]));
      expect(doc.components.schemas[name]).toEqual(expected);
    }
    // Reports are QoS 1 and never retained (each press is delivered once, acked); heartbeats QoS 0.
    expect(doc.operations.receiveEventReport?.bindings.mqtt).toEqual({
      qos: 1,
      retain: false,
      bindingVersion: '0.2.0',
    });
    expect(doc.operations.receiveEventHeartbeat?.bindings.mqtt.qos).toBe(0);
    expect(doc.operations.sendAckReport?.action).toBe('send');
  });
});
