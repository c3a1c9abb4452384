/** Confiscation register API (P7): staff record a phone confiscated into a locker slot and record its return. */
import { Type } from '@sinclair/typebox';
import { Confiscation as ConfiscationSchema } from '../../../schemas/api.js';
import {
  type Confiscation,
  ConfiscationError,
  type ConfiscationStore,
} from '../../confiscations/confiscations.js';
import type { DeviceRegistry } from '../../devices/device-registry.js';
import type { EventBus } from '../../event-bus.js';
import { ok } from '../answer.js';
import { statusOf } from '../error-status.js';
import type { RouteModule } from '../http-server.js';

const RecordBody = Type.Object(
  {
    device: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,47}$' }),
    slot: Type.Integer({ minimum: 0, maximum: 63 }),
    note: Type.String({
      maxLength: 200,
      description: 'What happened, never who (D1): e.g. "used during period 2".',
    }),
  },
  { additionalProperties: false },
);

export function confiscationRoutes(deps: {
  store: ConfiscationStore;
  registry: DeviceRegistry;
  slotsOf: (device: string) => number;
  bus: EventBus;
  /** Called after a change so the live grid shows the open count for that locker. */
  changed: (c: Confiscation) => void;
}): RouteModule {
  return (app, kit) => {
    app.get(
      '/api/confiscations',
      { preHandler: kit.guard('confiscations:read'), config: { response: Type.Array(ConfiscationSchema) } },
      async (request) => {
        const openOnly = (request.query as { open?: string }).open === '1';
        return ok(Type.Array(ConfiscationSchema), await deps.store.list({ openOnly }));
      },
    );

    app.post(
      '/api/confiscations',
      {
        preHandler: kit.guard('confiscations:write'),
        config: { body: RecordBody, response: ConfiscationSchema },
      },
      async (request, reply) => {
        const input = kit.body('confiscation', RecordBody, request);
        if (Array.isArray(input)) return kit.fail(reply, 400, 'E_VALIDATION', 'invalid confiscation', input);
        const device = await deps.registry.get(input.device);
        if (!device)
          return kit.fail(reply, 400, 'E_VALIDATION', 'invalid confiscation', ['/device: no such device']);
        const by = kit.session(request).username;
        try {
          const record = await deps.store.record({
            site: device.site,
            room: device.room,
            device: device.id,
            slot: input.slot,
            slots: deps.slotsOf(device.id),
            note: input.note,
            by,
            now: kit.now(),
          });
          deps.changed(record);
          return ok(ConfiscationSchema, record);
        } catch (error) {
          if (error instanceof ConfiscationError) {
            return kit.fail(reply, statusOf(error.code), error.code, 'could not record', [error.message]);
          }
          throw error;
        }
      },
    );

    app.post(
      '/api/confiscations/:id/return',
      // P7: the office hands phones back at the end of the day, so it records returns too.
      { preHandler: kit.guard('confiscations:return'), config: { response: ConfiscationSchema } },
      async (request, reply) => {
        const by = kit.session(request).username;
        try {
          const { after } = await deps.store.markReturned(
            (request.params as { id: string }).id,
            by,
            kit.now(),
          );
          deps.changed(after);
          return ok(ConfiscationSchema, after);
        } catch (error) {
          if (error instanceof ConfiscationError)
            return kit.fail(reply, statusOf(error.code), error.code, error.message);
          throw error;
        }
      },
    );
  };
}
