import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildOpenApiDocument } from '../functions/shared/openapi';

/**
 * Writes the OpenAPI 3.1 document (built from the schemas that validate requests, functions/shared/openapi.ts) to
 * `target`. Used by `npm run openapi` (dist/openapi.json) and by every `cdk synth`/`cdk deploy` (next to the
 * template in cdk.out), so the document always matches the code that is deployed.
 */
export function writeOpenApiFile(target: string, serverUrl?: string): string {
  mkdirSync(path.dirname(target), { recursive: true });
  const document = buildOpenApiDocument(serverUrl ? { serverUrl } : {});
  writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  return target;
}
