/**
 * Writes schemas/json/<name>.schema.json from the TypeBox sources, and schemas/asyncapi.json (the MQTT topic tree as
 * AsyncAPI 3) from the same schemas and schemas/topics.ts; --check fails when any of them is stale.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asyncApiDocument } from '../schemas/asyncapi.js';
import { allSchemas } from '../schemas/validate.js';

const dir = join(import.meta.dirname, '..', 'schemas', 'json');
const checkOnly = process.argv.includes('--check');
const stale: string[] = [];
mkdirSync(dir, { recursive: true });
const expected = new Set<string>();
for (const [name, schema] of Object.entries(allSchemas)) {
  const file = `${name}.schema.json`;
  expected.add(file);
  const text = `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema', ...schema }, null, 2)}\n`;
  let current = '';
  try {
    current = readFileSync(join(dir, file), 'utf8');
  } catch {}
  if (current === text) continue;
  if (checkOnly) stale.push(file);
  else writeFileSync(join(dir, file), text);
}
for (const file of readdirSync(dir)) if (!expected.has(file)) stale.push(`${file} (no longer generated)`);

const asyncApiFile = join(dir, '..', 'asyncapi.json');
const { version } = JSON.parse(readFileSync(join(dir, '..', '..', 'package.json'), 'utf8')) as {
  version: string;
};
const asyncApiText = `${JSON.stringify(asyncApiDocument(version), null, 2)}\n`;
let asyncApiCurrent = '';
try {
  asyncApiCurrent = readFileSync(asyncApiFile, 'utf8');
} catch {}
if (asyncApiCurrent !== asyncApiText) {
  if (checkOnly) stale.push('../asyncapi.json');
  else writeFileSync(asyncApiFile, asyncApiText);
}
if (checkOnly && stale.length > 0) {
  console.error(`schemas/json is stale; run npm run gen:schemas:\n  ${stale.join('\n  ')}`);
  process.exit(1);
}
console.log(
  checkOnly
    ? 'schemas/json and schemas/asyncapi.json are fresh'
    : `wrote ${expected.size} schemas to schemas/json, and schemas/asyncapi.json`,
);
