/** `npm run openapi`: writes the OpenAPI 3.1 document to dist/openapi.json (API_URL sets its server URL). */
import path from 'node:path';
import { writeOpenApiFile } from '../lib/openapi';
import { projectRoot } from '../lib/paths';

console.log(writeOpenApiFile(path.join(projectRoot(), 'dist', 'openapi.json'), process.env.API_URL));
