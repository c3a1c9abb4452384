declare module 'aedes-persistence-level' {
  /** The part of an aedes persistence the hub calls or replaces itself (hub/broker); aedes uses the rest. */
  export interface LevelPersistence {
    /** Retained packets whose topic matches an MQTT filter. */
    createRetainedStream(pattern: string): AsyncIterable<{ topic: string; payload: Buffer | string }>;
    /** Retained packets matching any of the filters, filter by filter. */
    createRetainedStreamCombi(patterns: string[]): AsyncIterable<{ topic: string; payload: Buffer | string }>;
  }
  /** Returns an aedes persistence backed by the given LevelDB. */
  export default function aedesPersistenceLevel(db: unknown): LevelPersistence;
}
