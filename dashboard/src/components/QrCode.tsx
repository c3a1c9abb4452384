/**
 * A QR code drawn in the browser from text the hub sent (the second factor's `otpauth://` set-up link), so a phone's
 * authenticator app can scan it. It is made here by uqr, loaded on first use; nothing is sent to any QR service. The
 * code is one SVG path of dark modules on a white square with the standard four-module quiet zone, so it scans at
 * any zoom and prints sharp. Its accessible name says what it is; the text it encodes stays on the page beside it.
 */
import { useEffect, useState } from 'preact/hooks';

const QUIET = 4;

export function QrCode({ text, label, size = 200 }: { text: string; label: string; size?: number }) {
  const [modules, setModules] = useState<boolean[][] | null>(null);
  useEffect(() => {
    let cancelled = false;
    setModules(null);
    // Medium error correction: readable from a phone camera with glare, still a small symbol for a ~110-char link.
    void import('uqr').then(({ encode }) => {
      if (!cancelled) setModules(encode(text, { ecc: 'M', border: 0 }).data);
    });
    return () => {
      cancelled = true;
    };
  }, [text]);
  if (!modules) return <div class="qr" style={{ width: size, height: size }} aria-busy="true" />;
  const extent = modules.length + 2 * QUIET;
  let path = '';
  modules.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (dark) path += `M${x + QUIET} ${y + QUIET}h1v1h-1z`;
    });
  });
  return (
    <svg
      class="qr"
      role="img"
      aria-label={label}
      data-testid="qr-code"
      width={size}
      height={size}
      viewBox={`0 0 ${extent} ${extent}`}
      shape-rendering="crispEdges"
    >
      <rect width={extent} height={extent} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
