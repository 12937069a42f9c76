/**
 * The SMS answer schemas (functions/sms/answer-schemas.ts) are documentation for the OpenAPI document: a function
 * that imported one as a value would bundle every answer schema (zod builds them at import, so esbuild cannot drop
 * them), which is what issue 13's bundle limits for POST /sms and POST /sms/batch leave no room for.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');

const functionSources = readdirSync(path.join(root, 'functions'), { withFileTypes: true, recursive: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
  .map((entry) => path.join(entry.parentPath, entry.name));

test('functions import the answer schemas for their types only', () => {
  const valueImports = functionSources.filter((file) =>
    /import\s+(?!type\b)[^;]*from\s+'[^']*\/answer-schemas'/.test(readFileSync(file, 'utf8')),
  );
  expect(functionSources.length).toBeGreaterThan(50);
  expect(valueImports.map((file) => path.relative(root, file))).toEqual([]);
});

test('the request schemas do not import the answer or receipt schemas', () => {
  const text = readFileSync(path.join(root, 'functions/sms/schema.ts'), 'utf8');
  expect(text).not.toMatch(/from '\.\/(answer|receipt)-schema/);
});
