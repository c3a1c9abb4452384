/**
 * A contact's edges reported as they happen, for the report button (johnny-five-board.ts). Its release raises the
 * report, and johnny-five's Button holds every edge back 7 ms (a trailing-edge debounce) before telling anyone.
 *
 * Leading-edge debounce instead: an edge is reported at once and the contact is then ignored for the lockout, after
 * which its level is looked at again, so bounce yields at most one edge per lockout and the last level always gets
 * through. A glitch shorter than the lockout can therefore show as a press
 * and release 7 ms apart; the device machine ignores presses shorter than its debounceMs (30 ms), so that raises no
 * report. Door, key and slots keep Button's debounce: a glitch there must not become an event at all.
 */
export class EdgeLockout {
  private reported: boolean | undefined;
  private raw: boolean | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly lockoutMs: number,
    private readonly report: (closed: boolean) => void,
  ) {}

  sample(closed: boolean): void {
    this.raw = closed;
    if (this.timer || closed === this.reported) return;
    this.reported = closed;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.raw !== undefined) this.sample(this.raw);
    }, this.lockoutMs);
    this.report(closed);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
