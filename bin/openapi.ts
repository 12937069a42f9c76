/** `npm run openapi`: writes the OpenAPI 3.1 document (functions/shared/openapi.ts) to dist/openapi.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildOpenApiDocument } from '../functions/shared/openapi';
import { projectRoot } from '../lib/paths';

const target = path.join(projectRoot(), 'dist', 'openapi.json');
mkdirSync(path.dirname(target), { recursive: true });
writeFileSync(
  target,
  `${JSON.stringify(buildOpenApiDocument(process.env.API_URL ? { serverUrl: process.env.API_URL } : {}), null, 2)}\n`,
);
console.log(target);
