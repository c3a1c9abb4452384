/**
 * Minimum password strength for staff accounts (S1): at least 12 characters, not a well-known password, not built
 * from the username. Length beats composition rules (NCSC and NIST SP 800-63B guidance), so there are none.
 */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/** The commonest leaked passwords of 12+ characters and school-flavoured guesses; compared case-insensitively. */
const COMMON = new Set(
  [
    '123456789012',
    '1234567890123',
    'qwertyuiopas',
    'qwertyuiop123',
    'qwerty123456',
    'password1234',
    'password12345',
    'password123!',
    'passwordpassword',
    'iloveyou1234',
    'letmein12345',
    'welcome12345',
    'welcome123456',
    'administrator',
    'admin1234567',
    'changeme1234',
    'abc123456789',
    '111111111111',
    '000000000000',
    'aaaaaaaaaaaa',
    'football1234',
    'baseball1234',
    'sunshine1234',
    'princess1234',
    'trustno11234',
    'monkey123456',
    'dragon123456',
    'school123456',
    'schoolschool',
    'teacher12345',
    'teacher123456',
    'safeguarding',
    'safeguarding1',
    'phonesaway123',
    'phones-away123',
    'correcthorsebatterystaple',
  ].map((p) => p.toLowerCase()),
);

/** Problems as `password: …` lines; empty when the password is acceptable. */
export function passwordProblems(username: string, password: string): string[] {
  const problems: string[] = [];
  if (password.length < MIN_PASSWORD_LENGTH)
    problems.push(`password: at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH)
    problems.push(`password: at most ${MAX_PASSWORD_LENGTH} characters`);
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) problems.push('password: too common');
  else if (new Set(lower).size < 4) problems.push('password: too repetitive');
  if (username.length >= 3 && lower.includes(username.toLowerCase()))
    problems.push('password: must not contain the username');
  return problems;
}
