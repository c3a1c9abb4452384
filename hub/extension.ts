/**
 * A domain object with a lifecycle (policy driver, escalation, retention …): constructed with its dependencies and
 * doing nothing until start(). It knows nothing of HTTP: a feature (hub/features/) pairs it with its routes, and the
 * composition root (hub/main.ts) starts them in order and stops them in reverse.
 */
export interface HubExtension {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
