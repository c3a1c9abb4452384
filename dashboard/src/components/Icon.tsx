/**
 * Inline SVG icons (no emoji: they need a colour font a school PC may not have). Always decorative: the text beside
 * each icon carries the meaning, so colour and shape are never the only signal.
 */
const PATHS = {
  locked: 'M7 11V8a5 5 0 0 1 10 0v3M5 11h14v10H5z',
  unlocked: 'M7 11V8a5 5 0 0 1 9.9-1M5 11h14v10H5z',
  door: 'M6 21V3h12v18M3 21h18M14 12h.01',
  offline:
    'M2 2l20 20M8.5 16.5a5 5 0 0 1 7 0M5 12.9a10 10 0 0 1 5.2-2.8M19 12.9a10 10 0 0 0-2.6-1.9M12 20h.01',
  fault: 'M12 3 2 21h20zM12 10v5M12 18h.01',
  online: 'M5 12.9a10 10 0 0 1 14 0M8.5 16.5a5 5 0 0 1 7 0M12 20h.01',
  unknown: 'M9 9a3 3 0 1 1 4 2.8c-.7.3-1 .9-1 1.7V15M12 18h.01',
  phone: 'M7 2h10v20H7zM11 18h2',
  exempt: 'M9 12l2 2 4-4M12 3l8 4v5c0 5-3.5 8-8 9-4.5-1-8-4-8-9V7z',
  alert: 'M12 8v5M12 16h.01M3 12a9 9 0 1 0 18 0 9 9 0 0 0-18 0',
  confiscated: 'M4 7h16v13H4zM4 7l2-4h12l2 4M9 12h6',
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name, class: cls }: { name: IconName; class?: string }) {
  return (
    <svg
      class={`icon ${cls ?? ''}`}
      viewBox="0 0 24 24"
      width="20"
      height="20"
      aria-hidden="true"
      focusable="false"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
