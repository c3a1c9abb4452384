/**
 * The HTTP status of every error code the domain throws: the one place a route gets a status for a refused request.
 * A domain error (HubError) whose code is not listed is a change the current state does not allow: 409. Anything that
 * is not a HubError is not the caller's doing and goes to the server's error handler (500).
 */
const STATUS: Readonly<Record<string, number>> = {
  E_VALIDATION: 400,
  E_CONFIRM: 400,
  E_WEAK_PASSWORD: 400,
  E_USERNAME: 400,
  E_ROLES: 400,
  // An account whose TOTP secret cannot be sealed or opened with the key given: refused as the request's problem.
  E_SECRETS_KEY: 400,
  // A signed bundle that fails verification: understood, but not acceptable.
  E_RELEASE_REFUSED: 422,
  E_SESSION: 401,
  E_FORBIDDEN: 403,
  E_CSRF: 403,
  E_SELF: 403,
  E_NOT_FOUND: 404,
  E_UNKNOWN_RELEASE: 404,
  E_UNKNOWN_DEVICE: 404,
  E_UNKNOWN_TOKEN: 404,
};

export function statusOf(code: string): number {
  return STATUS[code] ?? 409;
}
