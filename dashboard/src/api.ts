/** The dashboard's only network code: JSON calls with the CSRF header, the live event stream, field errors. */
export interface SessionInfo {
  username: string;
  roles: string[];
  csrf: string;
  /** S2: the server's idle limit; the client warns before it and locks at it. */
  idleLimitMs?: number;
}

/** What POST /api/login answers before a session exists (S3: a second factor for incident and policy roles). */
export type LoginStep =
  | SessionInfo
  | { needsTotp: true; loginToken: string }
  | { needsTotpEnrolment: true; loginToken: string; secret: string; otpauthUri: string }
  | { needsNewPassword: true; loginToken: string };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: string[] = [],
  ) {
    super(message);
  }
}

let csrf = '';
let lastCall = 0;
let onSessionLost: () => void = () => {};

export function setCsrf(token: string): void {
  csrf = token;
}

/** Called when any call answers 401 E_SESSION: the server locked the session (S2). */
export function onLocked(handler: () => void): void {
  onSessionLost = handler;
}

/** When this page last reached the server with its session (each guarded call refreshes the server's idle timer). */
export const lastServerCall = () => lastCall;

export async function api<T>(
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  // A file (a release bundle) goes as its raw bytes; everything else as JSON.
  const raw = typeof Blob !== 'undefined' && body instanceof Blob;
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      ...headers,
      ...(body !== undefined
        ? { 'content-type': raw ? 'application/octet-stream' : 'application/json' }
        : {}),
      ...(method !== 'GET' ? { 'x-csrf-token': csrf } : {}),
    },
    ...(body !== undefined ? { body: raw ? (body as Blob) : JSON.stringify(body) } : {}),
  });
  lastCall = Date.now();
  const json = (await response.json().catch(() => ({}))) as {
    data?: T;
    error?: { code: string; message: string; fields?: string[] };
  };
  if (!response.ok) {
    const error = new ApiError(
      response.status,
      json.error?.code ?? 'E_HTTP',
      json.error?.message ?? response.statusText,
      json.error?.fields,
    );
    if (error.code === 'E_SESSION' && !/^\/api\/(login|logout)/.test(path)) onSessionLost();
    throw error;
  }
  return json.data as T;
}

/**
 * The server's `path: message` problems keyed by field, so each shows beside its input. Ajv paths look like
 * `/referral/agency`, hand-written ones like `referral.agency`; a missing property names itself in the message.
 */
export function fieldErrors(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(error instanceof ApiError)) return out;
  // A rule checked past the schema (e.g. "text: must not be empty") names its field in the message alone.
  const problems = error.fields.length
    ? error.fields
    : /^[\w.]+: /.test(error.message)
      ? [error.message]
      : [];
  for (const problem of problems) {
    const at = problem.indexOf(': ');
    if (at < 0) continue;
    let path = problem.slice(0, at).replace(/^\//, '').replaceAll('/', '.');
    const message = problem.slice(at + 2);
    const missing = /required property '([^']+)'/.exec(message);
    if (missing?.[1]) path = path ? `${path}.${missing[1]}` : missing[1];
    out[path || '_'] = out[path || '_'] ? `${out[path || '_']}; ${message}` : message;
  }
  return out;
}

export const errorText = (error: unknown) =>
  error instanceof ApiError ? error.message : 'Could not reach the hub. Check the connection and try again.';

export function openStream(
  handlers: Record<string, (data: unknown) => void>,
  onDrop: () => void,
): () => void {
  const source = new EventSource('/api/stream');
  for (const [event, handler] of Object.entries(handlers)) {
    source.addEventListener(event, (e) => handler(JSON.parse((e as MessageEvent<string>).data)));
  }
  source.onerror = () => onDrop();
  return () => source.close();
}
