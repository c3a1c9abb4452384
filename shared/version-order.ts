/**
 * Version order shared by the hub and the device (the device may not import hub code): numeric-aware, so 1.10.0
 * comes after 1.9.2; pre-release suffixes sort as text after the numbers.
 */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
