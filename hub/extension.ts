/**
 * A hub feature (policy driver, escalation, retention …): constructed with its dependencies and doing nothing until
 * start(). The composition root (hub/main.ts) starts them in order and stops them in reverse.
 */
import type { RouteModule } from './http/http-server.js';

export interface HubExtension {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** HTTP routes the feature adds to the dashboard API, registered behind the shared guards. */
  readonly routes?: RouteModule;
}
