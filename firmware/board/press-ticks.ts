/**
 * How long the report button was down by the board's own clock (johnny-five-board.ts).
 *
 * Firmata carries no timestamps, so this program times an edge by when it reads it. If its event loop stalls for
 * longer than a press (garbage collection, a slow SD card, a busy Pi), the press and the release are read together
 * and the press looks like contact bounce: a pupil's report would be dropped. The firmware's analog reports leave
 * every sampling interval of the board's clock, in the same serial stream as the edges, so the number read between
 * two edges measures the press however late both are read. Between ticks k and k + n the contact was down for more
 * than (n - 1) intervals: a lower bound, which is all the device needs to tell a press from a glitch.
 */
export class PressTicks {
  private ticks = 0;
  /** Tick count at the first close of the press being measured, and at the open that ended it (if it has). */
  private downAt: number | undefined;
  private upAt: number | undefined;

  constructor(private readonly intervalMs: number) {}

  /** One periodic report from the board. */
  tick(): void {
    this.ticks += 1;
  }

  /**
   * Every raw level read for the contact, before any debounce. Repeats are normal: Firmata reports a whole port when
   * any of its pins changes.
   */
  sample(closed: boolean): void {
    if (closed) {
      this.downAt ??= this.ticks;
      this.upAt = undefined; // closed again while bouncing open: the press goes on
    } else if (this.downAt !== undefined) {
      this.upAt ??= this.ticks;
    }
  }

  /** At a reported release: the board-clock length of the press it ends (a lower bound, ms), and start afresh. */
  release(): number | undefined {
    const { downAt, upAt } = this;
    this.downAt = undefined;
    this.upAt = undefined;
    if (downAt === undefined || upAt === undefined) return undefined;
    return Math.max(0, upAt - downAt - 1) * this.intervalMs;
  }
}
