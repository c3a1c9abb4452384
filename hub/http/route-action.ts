/** A route's domain action, answered or refused in one way for every route that uses it. */
import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { HubError } from '../errors.js';
import { ok } from './answer.js';
import { statusOf } from './error-status.js';
import type { RouteKit } from './http-server.js';

/**
 * Runs a route's domain action and answers with its result, typed by the schema the route publishes; a domain error
 * (HubError) is refused with the status its code maps to (error-status.ts), anything else goes to the error handler.
 */
export async function answerOrRefuse<S extends TSchema>(
  kit: RouteKit,
  reply: FastifyReply,
  schema: S,
  action: () => Promise<Static<S>>,
): Promise<{ status: 'ok'; data: Static<S> } | FastifyReply> {
  try {
    return ok(schema, await action());
  } catch (error) {
    if (error instanceof HubError) return kit.fail(reply, statusOf(error.code), error.code, error.message);
    throw error;
  }
}
