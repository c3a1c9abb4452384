/**
 * The stream aedes is handed for each connection: it reads what the frame guard lets through and writes to the socket.
 *
 * It replaces `Duplex.from({ readable: guard, writable: socket })` plus `pipeline(socket, guard)`, which did the same
 * with end-of-stream watchers, abort signals and a DOMException per connection: a twelfth of the main thread in a
 * reconnect storm of 3,000 devices (bench/RESULTS.md, fleet). What it keeps from them:
 * - backpressure both ways (the guard pauses when aedes has not read; a write waits for the socket's 'drain');
 * - a socket error or close ends the connection (destroyed without an error, as pipeline's teardown did, so an
 *   ordinary reset is not counted as a client's fault);
 * - writes aedes corks (mqtt-packet corks per packet) leave in one writev: _writev corks the socket around them.
 */

import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { MqttFrameGuard } from './frame-guard.js';

export class GuardedConnection extends Duplex {
  /** A write's callback held until the socket drains. */
  private waitingDrain: (() => void) | undefined;

  constructor(
    private readonly socket: Socket,
    readonly guard: MqttFrameGuard,
    onGuardError: (error: Error) => void,
  ) {
    super();
    guard.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) guard.pause();
    });
    guard.on('end', () => this.push(null));
    guard.on('error', (error) => {
      onGuardError(error);
      this.destroy();
    });
    socket.on('drain', () => {
      const callback = this.waitingDrain;
      this.waitingDrain = undefined;
      callback?.();
    });
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
    socket.pipe(guard);
  }

  override _read(): void {
    this.guard.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.socket.write(chunk)) callback();
    else this.waitingDrain = callback;
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    this.socket.cork();
    let flowing = true;
    for (const { chunk } of chunks) flowing = this.socket.write(chunk);
    this.socket.uncork();
    if (flowing) callback();
    else this.waitingDrain = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.waitingDrain = undefined; // a write waiting for the socket never completes, as with Duplex.from
    this.socket.destroy();
    this.guard.destroy();
    callback(error);
  }
}
