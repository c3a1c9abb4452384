/**
 * S2: lock after 10 minutes idle, with a visible warning first. The server expires an idle session by itself; the
 * page mirrors it from the user's own activity (keys, clicks, touches), keeps the server's timer fresh while the
 * user is active, warns a minute before the limit and then signs out and shows the lock screen. Background traffic
 * (the live stream, refreshes) never counts as activity.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, lastServerCall } from '../api.js';

export const DEFAULT_IDLE_MS = 10 * 60_000;

/** The warning shows a minute before the lock (or a third of a short test limit). */
export const warnBefore = (limit: number) => Math.min(60_000, limit / 3);

export function useIdleLock(limitMs: number, active: boolean, onLock: () => void) {
  const lastActivity = useRef(Date.now());
  const [remainingMs, setRemainingMs] = useState<number | null>(null);

  useEffect(() => {
    if (!active) return;
    lastActivity.current = Date.now();
    setRemainingMs(null);
    const activity = () => {
      lastActivity.current = Date.now();
      setRemainingMs(null);
      // Keep the server's idle timer in step with the person, at most once every quarter of the limit.
      if (Date.now() - lastServerCall() > Math.min(60_000, limitMs / 4))
        api('GET', '/api/session').catch(() => {});
    };
    const events = ['keydown', 'pointerdown', 'touchstart', 'wheel'] as const;
    for (const e of events) addEventListener(e, activity, { passive: true, capture: true });
    const tick = setInterval(
      () => {
        const left = limitMs - (Date.now() - lastActivity.current);
        if (left <= 0) onLock();
        else setRemainingMs(left <= warnBefore(limitMs) ? left : null);
      },
      Math.min(1000, limitMs / 20),
    );
    return () => {
      clearInterval(tick);
      for (const e of events) removeEventListener(e, activity, { capture: true });
    };
  }, [active, limitMs, onLock]);

  return remainingMs;
}

export function IdleWarning({ remainingMs }: { remainingMs: number }) {
  const seconds = Math.ceil(remainingMs / 1000);
  useEffect(() => {
    document.getElementById('stay-signed-in')?.focus();
  }, []);
  return (
    <div class="idle-warning" role="alertdialog" aria-labelledby="idle-title" aria-describedby="idle-text">
      <h2 id="idle-title">
        <span aria-hidden="true">⚠ </span>Still there?
      </h2>
      <p id="idle-text" data-testid="idle-warning">
        For safety this screen locks after a period without use. It will lock in about {seconds} s.
      </p>
      {/* Any key or click counts as activity; the button gives that click an obvious target. */}
      <button type="button" id="stay-signed-in" class="primary">
        Stay signed in
      </button>
    </div>
  );
}
