/** The trust's configuration: the example loads, and a bad file lists every problem by path. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../hub/config-file.js';
import { ConfigError } from '../../../hub/errors.js';

describe('trust configuration', () => {
  it('config/trust.example.json is a valid trust configuration', () => {
    const file = join(import.meta.dirname, '..', '..', '..', 'config', 'trust.example.json');
    const config = loadConfigFile(file, 'trust-config');
    expect(config.schools.map((s) => s.shareIncidents === true)).toEqual([true, false]);
  });

  it('a bad file lists every problem by path', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pa-trust-config-')), 'trust.json');
    writeFileSync(
      file,
      JSON.stringify({
        v: 1,
        name: 'T',
        dataDir: 'd',
        http: { host: 'h', port: 1 },
        schools: [{ site: 'Bad Site' }],
      }),
    );
    try {
      loadConfigFile(file, 'trust-config');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual(
        expect.arrayContaining([
          "/: must have required property 'store'",
          '/schools/0/site: must match pattern "^[a-z0-9][a-z0-9-]{0,47}$"',
          "/schools/0: must have required property 'name'",
        ]),
      );
    }
  });
});
