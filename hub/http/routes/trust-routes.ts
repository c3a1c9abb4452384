/**
 * How this school's policy matrix differs from its trust's baseline (P8), for Settings → Policy. Read-only: schools
 * stay free to differ; the difference is shown, never enforced.
 */
import { BaselineView } from '../../../schemas/api.js';
import { ok } from '../answer.js';
import type { RouteModule } from '../http-server.js';

export function trustRoutes(deps: { baseline: () => BaselineView }): RouteModule {
  return (app, kit) => {
    app.get(
      '/api/policy/baseline',
      { preHandler: kit.guard('policy:read'), config: { response: BaselineView } },
      async () => ok(BaselineView, deps.baseline()),
    );
  };
}
