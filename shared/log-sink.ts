/**
 * Where log lines go by default: standard output, each line written at once, as pino's own default does, but a line
 * that cannot be written is dropped and counted instead of holding the program.
 *
 * Why not pino's default (sonic-boom 4): its synchronous flush retries a failed write for ever, whatever the error,
 * sleeping 100 ms on the main thread between tries. With standard output in a file on a full disk the hub stopped
 * answering anyone (devices, dashboard, its own supervisor) until the disk had room: seen in the whole-data-directory
 * fault test. A school's hub must keep storing reports with its log disk full; the lost lines are counted
 * (`phones_away_log_lines_dropped_total`) and writing resumes by itself once there is room.
 */
import { writeSync } from 'node:fs';

export class LogSink {
  /** Lines that could not be written (whole or in part) since start. */
  dropped = 0;
  /** Why the last line was dropped (an errno code such as ENOSPC), or null. */
  lastError: string | null = null;

  constructor(private readonly fd = 1) {}

  /** pino's DestinationStream. */
  write(line: string): void {
    try {
      const n = writeSync(this.fd, line);
      if (n < Buffer.byteLength(line)) this.writeRest(Buffer.from(line), n);
    } catch (error) {
      this.dropped += 1;
      this.lastError = (error as NodeJS.ErrnoException).code ?? String(error);
    }
  }

  /** After a short write (the disk filled part-way through the line): the rest, or an error. */
  private writeRest(bytes: Buffer, from: number): void {
    for (let at = from; at < bytes.length; ) {
      const n = writeSync(this.fd, bytes, at);
      if (n === 0) throw Object.assign(new Error('nothing written'), { code: 'EIO' });
      at += n;
    }
  }
}

/** The one sink every logger of this process writes standard output through. */
export const stdoutSink = new LogSink(1);
