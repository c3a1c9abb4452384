/** Hub error classes: each has a stable `code` so callers and logs can tell them apart without parsing text. */
export class HubError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ConfigError extends HubError {
  constructor(
    file: string,
    readonly problems: string[],
  ) {
    super('E_CONFIG', `${file} is not valid:\n  ${problems.join('\n  ')}`);
  }
}
