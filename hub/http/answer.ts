/**
 * The success envelope, typed by the answer's schema: `ok(UserView, user)` does not compile unless `user` is what the
 * schema the route publishes (schemas/api.ts) says, so the document and the code cannot drift apart unnoticed.
 */
import type { Static, TSchema } from '@sinclair/typebox';

export function ok<S extends TSchema>(_schema: S, data: Static<S>): { status: 'ok'; data: Static<S> } {
  return { status: 'ok', data };
}
