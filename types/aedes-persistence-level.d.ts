declare module 'aedes-persistence-level' {
  /** Returns an aedes persistence backed by the given LevelDB. */
  export default function aedesPersistenceLevel(db: unknown): unknown;
}
