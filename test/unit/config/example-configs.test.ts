/** The example configuration files in config/ are documentation: they must always load. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../hub/config-file.js';
import { ConfigError } from '../../../hub/errors.js';

const config = (name: string) => join(import.meta.dirname, '..', '..', '..', 'config', name);

describe('example configuration files', () => {
  it('hub.example.json is a valid hub configuration', () => {
    expect(loadConfigFile(config('hub.example.json'), 'hub-config').site).toBe('demo-school');
  });

  it('device.example.json is a valid device configuration', () => {
    expect(loadConfigFile(config('device.example.json'), 'device-config').board.kind).toBe('firmata-serial');
  });

  it('P8: school.example.json carries the policy matrix as configuration', () => {
    const school = loadConfigFile(config('school.example.json'), 'school-model');
    expect(school.policy.matrix.length).toBeGreaterThan(0);
  });

  it('a bad file lists every problem by path and loads nothing', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pa-config-')), 'hub.json');
    writeFileSync(file, JSON.stringify({ version: 2, site: 'Bad Site', mqtt: { port: 'x' } }));
    try {
      loadConfigFile(file, 'hub-config');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toEqual(
        expect.arrayContaining([
          '/version: must be equal to constant',
          '/site: must match pattern "^[a-z0-9][a-z0-9-]{0,47}$"',
          "/: must have required property 'dataDir'",
          '/mqtt/port: must be integer',
        ]),
      );
    }
  });
});
