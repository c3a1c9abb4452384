/**
 * A signed-in dashboard user for API tests: the real two-step sign-in (password, then TOTP), cookies and CSRF. With
 * `source`, requests leave from that local address (any 127.x.y.z on Linux), so a test can play two computers.
 */
import { request as httpRequest } from 'node:http';
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
  /** Cookies the hub set, by name (the session, and the remembered-browser token). */
  readonly cookies = new Map<string, string>();
  csrf = '';
  totpSecret: string | undefined;

  constructor(
    readonly baseUrl: string,
    readonly username: string,
    readonly password: string,
    readonly options: { source?: string } = {},
  ) {}

  /** The session cookie as a Cookie header would carry it, or '' when signed out. */
  get cookie(): string {
    const session = this.cookies.get('pa_session');
    return session ? `pa_session=${session}` : '';
  }

  private keep(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
      if (!value || attributes.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** fetch, or node:http from a chosen local address. */
  private async send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<{ status: number; text: string; headers: Headers; setCookies: string[] }> {
    if (!this.options.source) {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      return {
        status: response.status,
        text: await response.text(),
        headers: response.headers,
        setCookies: response.headers.getSetCookie(),
      };
    }
    const url = new URL(path, this.baseUrl);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        url,
        { method, headers, localAddress: this.options.source, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const out = new Headers();
            for (const [key, value] of Object.entries(res.headers))
              if (key !== 'set-cookie' && value !== undefined) out.set(key, String(value));
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
              headers: out,
              setCookies: res.headers['set-cookie'] ?? [],
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options: { csrf?: boolean; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookies.size > 0)
      headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && options.csrf !== false && this.csrf) headers['x-csrf-token'] = this.csrf;
    const response = await this.send(
      method,
      path,
      headers,
      body !== undefined ? JSON.stringify(body) : undefined,
    );
    this.keep(response.setCookies);
    const { text } = response;
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
