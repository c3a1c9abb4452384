/**
 * The MQTT topic tree as an AsyncAPI 3.0 document, from the hub's point of view (it receives what devices publish and
 * sends commands and acks). Channels come from `topics.ts` (each topic kind is built with `topics`, parsed back with
 * `parseTopic`, and given its payload by `schemaFor`), payloads from the TypeBox message schemas. Written to
 * `schemas/asyncapi.json` by `npm run gen:schemas`; `npm run check` fails when it is stale.
 */
import {
  type DeviceAddress,
  EVENT_KINDS,
  parseTopic,
  ROOT,
  SET_COMMANDS,
  STATE_PARTS,
  schemaFor,
  topics,
} from './topics.js';
import { allSchemas } from './validate.js';

interface ChannelSpec {
  id: string;
  topic: string;
  /** device → hub (the hub receives) or hub → device (the hub sends). */
  action: 'receive' | 'send';
  qos: 0 | 1;
  retain: boolean;
  description: string;
}

// Placeholders that are valid slugs, so the real builders make each address; swapped for {site} … afterwards.
const SAMPLE: DeviceAddress = { site: 'site-x', room: 'room-x', device: 'device-x' };
const address = (topic: string) =>
  topic.replace(`/${SAMPLE.site}/${SAMPLE.room}/${SAMPLE.device}/`, '/{site}/{room}/{device}/');

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function channels(): ChannelSpec[] {
  return [
    {
      id: 'availability',
      topic: topics.availability(SAMPLE),
      action: 'receive',
      qos: 1,
      retain: true,
      description:
        "The device's 'online' on every connect; also its last will ('offline') when the link dies.",
    },
    ...STATE_PARTS.map(
      (part): ChannelSpec => ({
        id: `state-${part}`,
        topic: topics.state(SAMPLE, part),
        action: 'receive',
        qos: 1,
        retain: true,
        description: `The ${part}'s current state, republished on every connect.`,
      }),
    ),
    ...EVENT_KINDS.map(
      (kind): ChannelSpec => ({
        id: `event-${kind}`,
        topic: topics.event(SAMPLE, kind),
        action: 'receive',
        qos: kind === 'heartbeat' ? 0 : 1,
        retain: false,
        description:
          kind === 'report'
            ? 'A report button press. Kept in the device journal until its ack arrives; resent with the same id.'
            : kind === 'heartbeat'
              ? 'Telemetry every heartbeat period (software version, uptime, clock sync).'
              : kind === 'update'
                ? 'How a fleet update offer is going on the device (waiting, downloading, verifying, installed, refused, rolled back with the reason).'
                : 'A locker happening: door, lock, key, slots, tamper.',
      }),
    ),
    ...SET_COMMANDS.map(
      (command): ChannelSpec => ({
        id: `set-${command}`,
        topic: topics.set(SAMPLE, command),
        action: 'send',
        qos: 1,
        retain: true,
        description:
          command === 'update'
            ? "A fleet update offer from the hub's roll-out; retained, so a device that reconnects gets the latest."
            : `A ${command} command from the hub's policy driver; retained, so a device that reconnects gets the latest.`,
      }),
    ),
    {
      id: 'ack-report',
      topic: topics.reportAck(SAMPLE),
      action: 'send',
      qos: 1,
      retain: false,
      description: 'The hub has stored the report (fsynced); the device may forget it.',
    },
  ];
}

export function asyncApiDocument(version: string) {
  const specs = channels();
  const channelsOut: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const spec of specs) {
    const parsed = parseTopic(spec.topic);
    if (!parsed) throw new Error(`${spec.topic} does not parse: topics.ts and this document disagree`);
    const schemaName = schemaFor(parsed);
    const schema = JSON.parse(JSON.stringify(allSchemas[schemaName])) as Record<string, unknown>;
    delete schema.$id;
    schemas[schemaName] = schema;
    const messageId = camel(schemaName);
    messages[messageId] = {
      name: schemaName,
      title: String(schema.title ?? schemaName),
      contentType: 'application/json',
      payload: { $ref: `#/components/schemas/${schemaName}` },
    };
    const channelId = camel(spec.id);
    channelsOut[channelId] = {
      address: address(spec.topic),
      description: spec.description,
      parameters: {
        site: { $ref: '#/components/parameters/site' },
        room: { $ref: '#/components/parameters/room' },
        device: { $ref: '#/components/parameters/device' },
      },
      messages: { [messageId]: { $ref: `#/components/messages/${messageId}` } },
    };
    operations[`${spec.action}${channelId[0]?.toUpperCase()}${channelId.slice(1)}`] = {
      action: spec.action,
      channel: { $ref: `#/channels/${channelId}` },
      messages: [{ $ref: `#/channels/${channelId}/messages/${messageId}` }],
      bindings: { mqtt: { qos: spec.qos, retain: spec.retain, bindingVersion: '0.2.0' } },
    };
  }
  const slug = (what: string) => ({
    description: `${what}: a lower-case slug (a-z, 0-9, '-'), so no id can inject a wildcard.`,
  });
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'phones-away MQTT topic tree',
      version,
      description:
        `Every topic is under \`${ROOT}/<site>/<room>/<device>/\`. A device may publish only under its own ` +
        'address and subscribe only to its own `set/+` and `ack/report`; monitor accounts read one site and ' +
        'publish nothing. Payloads are JSON, validated against these schemas before a device publishes and at ' +
        "the hub's ingest.",
      license: { name: 'MIT' },
    },
    defaultContentType: 'application/json',
    servers: {
      hub: {
        host: 'hub.school.internal:1883',
        protocol: 'mqtt',
        protocolVersion: '3.1.1',
        description: "The hub's embedded broker over TCP (the port is `mqtt.port` in hub.json).",
        security: [{ $ref: '#/components/securitySchemes/device' }],
      },
      hubTls: {
        host: 'hub.school.internal:8883',
        protocol: 'secure-mqtt',
        protocolVersion: '3.1.1',
        description: 'The same broker over TLS with the school CA (`mqtt.tls.port`).',
        security: [{ $ref: '#/components/securitySchemes/device' }],
      },
    },
    channels: channelsOut,
    operations,
    components: {
      schemas,
      messages,
      parameters: { site: slug("The school's id"), room: slug('The room id'), device: slug('The device id') },
      securitySchemes: {
        device: {
          type: 'userPassword',
          description:
            "A device connects with its id as username and its own secret as password (or, while enrolling, 'enrol:<token>:<secret>').",
        },
      },
    },
  };
}
