/**
 * A real hub in its own process (hub-entry.ts), for fault tests and benchmarks: kill -9 it, restart it on the same
 * data directory and the same MQTT/HTTP ports (so devices reconnect where they were), measure its own RSS and CPU.
 */
import { type ChildProcess, fork } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HubConfig, SchoolModel } from '../../schemas/config.js';
import type { HubRequest, HubStats } from './hub-entry.js';
import { demoSchool, hubConfig } from './hub-fixture.js';

const ENTRY = join(import.meta.dirname, 'hub-entry.ts');
const ROOT = join(import.meta.dirname, '..', '..');
/** Where tsc would put the entry: its `../../hub/*.js` imports then resolve to the build (`npm run build`) in dist/. */
const COMPILED_ENTRY = join(ROOT, 'dist', 'test', 'support', 'hub-entry.js');
const COMPILED_HUB = join(ROOT, 'dist', 'hub', 'main.js');

/**
 * The entry for a compiled hub: hub-entry.ts transpiled (types erased) next to the build, or null when there is no
 * build. The build itself is whatever `npm run build` last produced; `stale` says if a hub/, schemas/ or shared/ source is newer.
 */
async function compiledEntry(): Promise<{ entry: string; stale: boolean } | null> {
  if (!existsSync(COMPILED_HUB)) return null;
  const { default: ts } = await import('typescript');
  const out = ts.transpileModule(readFileSync(ENTRY, 'utf8'), {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
    },
    fileName: ENTRY,
  });
  mkdirSync(join(COMPILED_ENTRY, '..'), { recursive: true });
  writeFileSync(COMPILED_ENTRY, out.outputText);
  const built = statSync(COMPILED_HUB).mtimeMs;
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...ts.sys
        .readDirectory(join(ROOT, dir), ['.ts'])
        .filter((f) => !f.endsWith('.test.ts'))
        .map((f) => statSync(f).mtimeMs),
    );
  return {
    entry: COMPILED_ENTRY,
    stale: Math.max(newest('hub'), newest('schemas'), newest('shared')) > built,
  };
}

export interface HubReady {
  mqttPort: number;
  /** Set when the config has mqtt.tls. */
  mqttTlsPort: number | null;
  httpUrl: string;
  influxUrl: string;
  influxdPid: number | null;
  firstRunAdmin: { username: string; password: string } | null;
  /** Milliseconds per start-up phase (Hub.startup). */
  startup: Record<string, number>;
}

/** Free loopback TCP ports, all held open together so they differ. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((ok, fail) => {
          const s = createServer();
          s.once('error', fail);
          s.listen(0, '127.0.0.1', () => ok(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  return ports;
}

export interface HubProcessOptions {
  dataDir?: string;
  school?: SchoolModel;
  config?: Partial<HubConfig>;
  /** Extra node flags for the hub process (e.g. --max-old-space-size). */
  execArgv?: string[];
  /**
   * Benchmarks: run the compiled hub (dist/, from `npm run build`) with plain node, as `npm start` does, instead of
   * the sources under the tsx loader (whose hooks thread and transpiled sources add RSS). Falls back to tsx when
   * there is no build; `runtime` says which ran. Tests keep tsx, so they always run the current sources.
   */
  compiled?: boolean;
}

export class HubProcess {
  private child: ChildProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  ready: HubReady | null = null;
  /** What runs the hub: the sources under tsx, or the compiled build under plain node. */
  runtime: 'tsx' | 'compiled' | 'compiled (stale build)' = 'tsx';
  private entry = ENTRY;
  /** influxd pids this hub started; a kill -9 leaves its influxd behind until the next start stops it. */
  private readonly influxdPids = new Set<number>();
  private readonly configPath: string;

  private constructor(
    readonly dataDir: string,
    private readonly ownsDir: boolean,
    private readonly execArgv: string[],
  ) {
    this.configPath = join(dataDir, 'hub.json');
  }

  static async start(options: HubProcessOptions = {}): Promise<HubProcess> {
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'phones-away-hubproc-'));
    const [mqttPort, httpPort] = (await freePorts(2)) as [number, number];
    const config = hubConfig(dataDir, {
      mqtt: { host: '127.0.0.1', port: mqttPort },
      http: { host: '127.0.0.1', port: httpPort },
      ...options.config,
    });
    const proc = new HubProcess(dataDir, !options.dataDir, options.execArgv ?? []);
    const compiled = options.compiled ? await compiledEntry() : null;
    if (compiled) {
      proc.entry = compiled.entry;
      proc.runtime = compiled.stale ? 'compiled (stale build)' : 'compiled';
    }
    writeFileSync(proc.configPath, JSON.stringify(config, null, 2));
    writeFileSync(join(dataDir, 'school.json'), JSON.stringify(options.school ?? demoSchool(), null, 2));
    await proc.launch();
    return proc;
  }

  get mqttPort(): number {
    if (!this.ready) throw new Error('hub not running');
    return this.ready.mqttPort;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private launch(): Promise<HubReady> {
    const log = openSync(join(this.dataDir, 'hub-process.log'), 'a');
    const child = fork(this.entry, [this.configPath, join(this.dataDir, 'school.json')], {
      execArgv: [...(this.runtime === 'tsx' ? ['--import', 'tsx'] : []), ...this.execArgv],
      stdio: ['ignore', log, log, 'ipc'],
    });
    this.child = child;
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null) =>
        reject(
          new Error(`hub process exited during start (code ${code}, signal ${signal}); see ${this.dataDir}`),
        );
      child.once('exit', onExit);
      child.on(
        'message',
        (message: { ready?: boolean; id?: number; ok?: boolean; value?: unknown; error?: string }) => {
          if (message.ready) {
            child.off('exit', onExit);
            this.ready = message as unknown as HubReady;
            if (this.ready.influxdPid) this.influxdPids.add(this.ready.influxdPid);
            resolve(this.ready);
            return;
          }
          const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
          if (!waiter || message.id === undefined) return;
          this.pending.delete(message.id);
          if (message.ok) waiter.ok(message.value);
          else waiter.fail(new Error(message.error));
        },
      );
      child.once('exit', () => {
        for (const waiter of this.pending.values()) waiter.fail(new Error('hub process exited'));
        this.pending.clear();
      });
    });
  }

  request<T>(request: HubRequest, timeoutMs = 60_000): Promise<T> {
    const child = this.child;
    if (!child?.connected) return Promise.reject(new Error('hub process is not running'));
    const id = this.nextId++;
    return new Promise<T>((ok, fail) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        fail(new Error(`hub request ${request.cmd} timed out`));
      }, timeoutMs);
      this.pending.set(id, {
        ok: (v) => {
          clearTimeout(timer);
          ok(v as T);
        },
        fail: (e) => {
          clearTimeout(timer);
          fail(e);
        },
      });
      child.send({ id, ...request });
    });
  }

  stats(): Promise<HubStats> {
    return this.request<HubStats>({ cmd: 'stats' });
  }

  /** Sends a signal and waits for the process to be gone (SIGKILL = crash; SIGTERM = clean stop). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((ok) => child.once('exit', ok));
    child.kill(signal);
    await exited;
    this.ready = null;
  }

  /** Starts a new hub process on the same data directory and ports. */
  async restart(): Promise<HubReady> {
    await this.kill('SIGTERM');
    return this.launch();
  }

  /** Clean stop, then any influxd a crashed hub left behind, then (if we made it) the data directory. */
  async dispose(): Promise<void> {
    await this.kill('SIGTERM').catch(() => {});
    for (const pid of this.influxdPids) {
      try {
        // Only an influxd still running on our data directory: a pid may have been reused since.
        if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.dataDir)) continue;
        process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (this.ownsDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
