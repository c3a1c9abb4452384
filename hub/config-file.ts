/** Loads a JSON configuration file and validates it; every problem is listed as `path: message`, nothing half-loaded. */
import { readFileSync } from 'node:fs';
import { parse, type SchemaName, type SchemaType, ValidationError } from '../schemas/validate.js';
import { ConfigError } from './errors.js';

export function loadConfigFile<N extends SchemaName>(path: string, schema: N): SchemaType<N> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [
      `/: cannot read file (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(path, [`/: not valid JSON (${(error as Error).message})`]);
  }
  try {
    return parse(schema, json);
  } catch (error) {
    if (error instanceof ValidationError) throw new ConfigError(path, error.problems);
    throw error;
  }
}
