import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildOpenApiDocument } from '../../../lib/openapi';
import { writeOpenApiFile } from '../../../lib/openapi';

describe('the OpenAPI file the build writes', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'openapi-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('is the document the local stack serves, in a folder created on the way', () => {
    const target = writeOpenApiFile(path.join(dir, 'nested', 'openapi.json'));
    expect(JSON.parse(readFileSync(target, 'utf8'))).toEqual(buildOpenApiDocument({}));
  });

  test('carries the deployed API URL when given', () => {
    const target = writeOpenApiFile(path.join(dir, 'with-url.json'), 'https://api.example.com/v1');
    const document = JSON.parse(readFileSync(target, 'utf8')) as { servers?: { url: string }[] };
    expect(document.servers?.map((s) => s.url)).toContain('https://api.example.com/v1');
  });
});
