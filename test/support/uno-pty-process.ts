/**
 * An emulated Uno in its own process behind a pty (uno-pty-entry.ts): what a USB Arduino is to a Pi. The device
 * program under test opens `serialPath` with board.kind 'firmata-serial'; the test drives the Uno's inputs and reads
 * its outputs here.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { PinName } from '../../firmware/board/pin-map.js';
import type { UnoOutputs, UnoPtyRequest } from './uno-pty-entry.js';

const ENTRY = join(import.meta.dirname, 'uno-pty-entry.ts');

export class UnoPtyProcess {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    (reply: { ok: boolean; value?: unknown; error?: string }) => void
  >();

  private constructor(
    private readonly child: ChildProcess,
    readonly serialPath: string,
  ) {
    child.on('message', (m: { id?: number; ok: boolean; value?: unknown; error?: string }) => {
      if (m.id === undefined) return;
      this.pending.get(m.id)?.(m);
      this.pending.delete(m.id);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** `speed`: the emulator's (1 = a real Uno). */
  static start(dir: string, speed = 1): Promise<UnoPtyProcess> {
    const child = fork(ENTRY, [dir, String(speed)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`uno-pty process exited during start (${code})`));
      child.once('exit', onExit);
      child.once('message', (m: { ready?: boolean; serialPath?: string }) => {
        child.off('exit', onExit);
        if (m.ready && m.serialPath) resolve(new UnoPtyProcess(child, m.serialPath));
        else reject(new Error('uno-pty process sent no serial path'));
      });
    });
  }

  private request<T>(request: UnoPtyRequest): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, (m) => (m.ok ? resolve(m.value as T) : reject(new Error(m.error))));
      this.child.send({ id, ...request });
    });
  }

  setPin(pin: PinName, high: boolean): Promise<void> {
    return this.request({ cmd: 'pin', pin, high });
  }

  outputs(): Promise<UnoOutputs> {
    return this.request({ cmd: 'outputs' });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ id: this.nextId++, cmd: 'exit' });
    await exited;
  }
}
