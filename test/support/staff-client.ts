/** A signed-in dashboard user for API tests: the real two-step sign-in (password, then TOTP), cookie and CSRF. */
import { totpCode } from '../../hub/users/totp.js';

export interface ApiReply<T = unknown> {
  status: number;
  body:
    | { status: 'ok'; data: T }
    | { status: 'error'; error: { code: string; message: string; fields?: string[] } };
  text: string;
  headers: Headers;
}

export class StaffClient {
  cookie = '';
  csrf = '';
  totpSecret: string | undefined;

  constructor(
    readonly baseUrl: string,
    readonly username: string,
    readonly password: string,
  ) {}

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options: { csrf?: boolean; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookie) headers.cookie = this.cookie;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && options.csrf !== false && this.csrf) headers['x-csrf-token'] = this.csrf;
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0] ?? '';
    const text = await response.text();
    let parsed: ApiReply<T>['body'];
    try {
      parsed = JSON.parse(text) as ApiReply<T>['body'];
    } catch {
      parsed = { status: 'ok', data: text as T };
    }
    return { status: response.status, body: parsed, text, headers: response.headers } as ApiReply<T>;
  }

  get<T = unknown>(path: string) {
    return this.request<T>('GET', path);
  }
  post<T = unknown>(path: string, body: unknown = {}, options: { csrf?: boolean } = {}) {
    return this.request<T>('POST', path, body, options);
  }

  /**
   * Signs in, enrolling TOTP on the first sign-in of a TOTP role. `at` gives the TOTP time, so a second sign-in in the
   * same 30-second step can use the next step's code (the previous one is spent).
   */
  async signIn(at = Date.now()): Promise<ApiReply> {
    const first = await this.post<Record<string, unknown>>('/api/login', {
      username: this.username,
      password: this.password,
    });
    if (first.body.status !== 'ok') return first;
    const data = first.body.data;
    if (data.needsTotpEnrolment) this.totpSecret = data.secret as string;
    if (data.needsTotp || data.needsTotpEnrolment) {
      if (!this.totpSecret) throw new Error('TOTP needed but no secret known');
      const reply = await this.post('/api/login/totp', {
        loginToken: data.loginToken,
        code: totpCode(this.totpSecret, at),
      });
      if (reply.body.status === 'ok') this.csrf = (reply.body.data as { csrf: string }).csrf;
      return reply;
    }
    this.csrf = (data as { csrf: string }).csrf;
    return first;
  }
}

export function data<T>(reply: ApiReply<T>): T {
  if (reply.body.status !== 'ok') throw new Error(`HTTP ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body.data;
}
