/** Dashboard sessions: random tokens, CSRF secret per session, idle lock after 10 minutes (S2). */
import { randomBytes } from 'node:crypto';
import type { StaffRole } from '../users/roles.js';

export const IDLE_LIMIT_MS = 10 * 60 * 1000;

export interface Session {
  token: string;
  csrf: string;
  username: string;
  roles: StaffRole[];
  createdAt: number;
  lastActive: number;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  /** Whoever holds a session open (the live stream) and must stop the moment it ends. */
  private readonly endListeners = new Map<string, Set<() => void>>();

  constructor(private readonly idleLimitMs = IDLE_LIMIT_MS) {}

  /** A fresh token at every login (session rotation), so a planted cookie is useless. */
  create(username: string, roles: StaffRole[], now: number): Session {
    const session: Session = {
      token: randomBytes(32).toString('base64url'),
      csrf: randomBytes(24).toString('base64url'),
      username,
      roles,
      createdAt: now,
      lastActive: now,
    };
    this.sessions.set(session.token, session);
    return session;
  }

  /** Returns the live session and marks it active, or null when missing or idle too long (then it is dropped). */
  touch(token: string | undefined, now: number): Session | null {
    if (!token) return null;
    const session = this.sessions.get(token);
    if (!session) return null;
    if (now - session.lastActive > this.idleLimitMs) {
      this.end(token);
      return null;
    }
    session.lastActive = now;
    return session;
  }

  /** Reads without refreshing activity: a live stream must not keep an idle session open. */
  peek(token: string | undefined, now: number): Session | null {
    const session = token ? this.sessions.get(token) : undefined;
    if (!session || now - session.lastActive > this.idleLimitMs) return null;
    return session;
  }

  destroy(token: string | undefined): void {
    if (token) this.end(token);
  }

  /** Ends every session of one account: it was disabled, re-roled or had its second factor reset. */
  destroyUser(username: string): void {
    for (const [token, session] of this.sessions) if (session.username === username) this.end(token);
  }

  /** Calls `listener` once when this session ends (sign-out, account change, idle); returns an unsubscribe. */
  onEnd(token: string, listener: () => void): () => void {
    let set = this.endListeners.get(token);
    if (!set) {
      set = new Set();
      this.endListeners.set(token, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.endListeners.delete(token);
    };
  }

  private end(token: string): void {
    this.sessions.delete(token);
    const listeners = this.endListeners.get(token);
    this.endListeners.delete(token);
    for (const listener of listeners ?? []) listener();
  }
}
