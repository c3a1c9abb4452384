/**
 * The hub's clock in the demo: held at a chosen instant while the history is built (the same hub, ingest, policy and
 * compliance code then sees each past event at its own time), and the real clock once released. It only moves
 * forward, so audit entries and the compliance recorder's mark stay in order across the hand-over.
 */
export class DemoClock {
  private held: number | null;

  constructor(start: number | null = null) {
    this.held = start;
  }

  readonly now = (): number => this.held ?? Date.now();

  /** Holds the clock at `at`, or leaves it where it is when `at` is earlier. */
  set(at: number): void {
    if (this.held === null) throw new Error('the demo clock is already released');
    this.held = Math.max(this.held, at);
  }

  /** From now on the real clock. */
  release(): void {
    this.held = null;
  }
}
