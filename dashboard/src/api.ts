/** The dashboard's only network code: JSON calls with the CSRF header, and the live event stream. */
export interface SessionInfo {
  username: string;
  roles: string[];
  csrf: string;
}

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

export function setCsrf(token: string): void {
  csrf = token;
}

export async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(method !== 'GET' ? { 'x-csrf-token': csrf } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await response.json().catch(() => ({}))) as {
    data?: T;
    error?: { code: string; message: string; fields?: string[] };
  };
  if (!response.ok) {
    throw new ApiError(
      response.status,
      json.error?.code ?? 'E_HTTP',
      json.error?.message ?? response.statusText,
      json.error?.fields,
    );
  }
  return json.data as T;
}

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
