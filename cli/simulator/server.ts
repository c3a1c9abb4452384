/**
 * The classroom simulator's own small HTTP server: the demo starts it, a hub never does (nothing under hub/ imports
 * this). It is bound to 127.0.0.1 only and drives emulated boards, so it is hardened as if a hostile page were open in
 * the same browser:
 * - the Host header must name this server (127.0.0.1 or localhost at its port), which defeats DNS rebinding;
 * - no CORS header is ever sent, and actions are POSTs with a JSON body: a cross-site form cannot send one, and a
 *   cross-site fetch that could needs a preflight this server never grants; an Origin or Sec-Fetch-Site header naming
 *   another site is refused as well;
 * - bodies are bounded and validated; anything refused is answered with a clear error, logged with its reason and
 *   counted, and the server carries on;
 * - the page's Content-Security-Policy allows only this server's own script, style and connections.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../../shared/log.js';
import { parseAction, SimulatorInputError } from './actions.js';
import type { Classroom, ClassroomView } from './classroom.js';

export const MAX_BODY_BYTES = 1024;
/** Live views open at once; more are refused rather than letting a loop of tabs hold the demo's one core. */
export const MAX_STREAMS = 16;

/** The page's files stay beside the sources (tsc does not copy them), so dist/ finds them there too. */
const STATIC_DIR = join(
  import.meta.dirname,
  import.meta.dirname.includes('/dist/') ? '../../../cli/simulator' : '.',
  'public',
);
/** The page and its two assets, read once: they are small and the set is fixed. */
const ASSETS: Record<string, { type: string; body: Buffer }> = {
  '/': { type: 'text/html; charset=utf-8', body: readFileSync(join(STATIC_DIR, 'index.html')) },
  '/simulator.js': {
    type: 'text/javascript; charset=utf-8',
    body: readFileSync(join(STATIC_DIR, 'simulator.js')),
  },
  '/simulator.css': {
    type: 'text/css; charset=utf-8',
    body: readFileSync(join(STATIC_DIR, 'simulator.css')),
  },
};

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

export interface SimulatorServer {
  url: string;
  /** Requests refused, by error code: bad input is counted as well as logged. */
  readonly refused: Readonly<Record<string, number>>;
  close(): Promise<void>;
}

export interface SimulatorServerOptions {
  classrooms: readonly Classroom[];
  log: Logger;
  /** 0 (default) picks a free port. The host is always 127.0.0.1. */
  port?: number;
}

export async function startSimulatorServer(options: SimulatorServerOptions): Promise<SimulatorServer> {
  const { log } = options;
  const classrooms = new Map(options.classrooms.map((c) => [c.device, c]));
  const refused: Record<string, number> = {};
  const streams = new Set<ServerResponse>();
  let allowedHosts: Set<string> = new Set();
  let origins: Set<string> = new Set();

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };

  const refuse = (req: IncomingMessage, res: ServerResponse, error: SimulatorInputError): void => {
    refused[error.code] = (refused[error.code] ?? 0) + 1;
    log.warn(
      { code: error.code, method: req.method, path: req.url, reason: error.message },
      'simulator: refused',
    );
    if (res.headersSent) return void res.end();
    send(res, error.status, { error: { code: error.code, message: error.message } });
  };

  const checkSameSite = (req: IncomingMessage): void => {
    const host = req.headers.host ?? '';
    if (!allowedHosts.has(host)) {
      throw new SimulatorInputError(
        'E_BAD_HOST',
        `this simulator answers only to ${[...allowedHosts][0]}`,
        421,
      );
    }
    if (req.method === 'GET') return;
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin)) {
      throw new SimulatorInputError('E_CROSS_SITE', 'requests from another site are refused', 403);
    }
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw new SimulatorInputError('E_CROSS_SITE', 'requests from another site are refused', 403);
    }
  };

  const readJson = async (req: IncomingMessage): Promise<unknown> => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') {
      throw new SimulatorInputError(
        'E_CONTENT_TYPE',
        'send the action as Content-Type: application/json',
        415,
      );
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      throw new SimulatorInputError('E_TOO_LARGE', `a request body is at most ${MAX_BODY_BYTES} bytes`, 413);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        throw new SimulatorInputError(
          'E_TOO_LARGE',
          `a request body is at most ${MAX_BODY_BYTES} bytes`,
          413,
        );
      }
      chunks.push(chunk);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new SimulatorInputError('E_BAD_JSON', 'the request body is not valid JSON', 400);
    }
  };

  const openStream = (res: ServerResponse): void => {
    if (streams.size >= MAX_STREAMS) {
      send(res, 503, { error: { code: 'E_BUSY', message: 'too many simulator pages are open' } });
      return;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      Connection: 'keep-alive',
    });
    const write = (view: ClassroomView) => res.write(`event: classroom\ndata: ${JSON.stringify(view)}\n\n`);
    for (const classroom of classrooms.values()) write(classroom.view());
    const stops = [...classrooms.values()].map((c) => c.onChange(write));
    streams.add(res);
    res.on('close', () => {
      streams.delete(res);
      for (const stop of stops) stop();
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    checkSameSite(req);
    const path = new URL(req.url ?? '/', 'http://simulator.invalid').pathname;
    // Browsers ask for an icon unprompted: answered empty rather than counted as a refusal.
    if (path === '/favicon.ico' && req.method === 'GET') {
      res.writeHead(204, SECURITY_HEADERS);
      res.end();
      return;
    }
    const asset = ASSETS[path];
    if (asset) {
      if (req.method !== 'GET') throw new SimulatorInputError('E_METHOD', `${path} answers GET only`, 405);
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': asset.type });
      res.end(asset.body);
      return;
    }
    if (path === '/api/classrooms') {
      if (req.method !== 'GET') throw new SimulatorInputError('E_METHOD', `${path} answers GET only`, 405);
      send(res, 200, { classrooms: [...classrooms.values()].map((c) => c.view()) });
      return;
    }
    if (path === '/api/events') {
      if (req.method !== 'GET') throw new SimulatorInputError('E_METHOD', `${path} answers GET only`, 405);
      openStream(res);
      return;
    }
    const match = /^\/api\/classrooms\/([^/]+)\/actions$/.exec(path);
    if (match) {
      if (req.method !== 'POST') throw new SimulatorInputError('E_METHOD', `${path} answers POST only`, 405);
      const device = decodeURIComponent(match[1] ?? '');
      const classroom = classrooms.get(device);
      if (!classroom)
        throw new SimulatorInputError('E_NO_SUCH_CLASSROOM', `no classroom has device '${device}'`, 404);
      const action = parseAction(await readJson(req), classroom.slotCount);
      classroom.act(action);
      send(res, 202, { accepted: action });
      return;
    }
    throw new SimulatorInputError('E_NOT_FOUND', `nothing at ${path}`, 404);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof SimulatorInputError) return refuse(req, res, error);
      log.error({ err: error, path: req.url }, 'simulator: request failed');
      if (!res.headersSent)
        send(res, 500, { error: { code: 'E_INTERNAL', message: 'the simulator failed' } });
      else res.end();
    });
  });
  // Bodies are tiny: a slow sender is cut off rather than holding a socket.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  origins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  for (const classroom of classrooms.values()) classroom.start();

  return {
    url: `http://127.0.0.1:${port}/`,
    refused,
    async close() {
      for (const classroom of classrooms.values()) classroom.stop();
      for (const stream of streams) stream.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
