/**
 * `npm run openapi`: writes the OpenAPI 3.1 document to dist/openapi.json (API_URL adds its server URL) and lints
 * it; any lint problem fails the command. `--lint <file>` only lints an existing file and prints the problems as
 * JSON (used by test/unit/openapi/lint.test.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeOpenApiFile } from '../lib/openapi';
import { lintOpenApi } from '../lib/openapi-lint';
import { projectRoot } from '../lib/paths';

async function main(): Promise<void> {
  const lintIndex = process.argv.indexOf('--lint');
  if (lintIndex >= 0) {
    const file = process.argv[lintIndex + 1];
    if (!file) throw new Error('--lint needs the path of an OpenAPI JSON file');
    const problems = await lintOpenApi(JSON.parse(readFileSync(file, 'utf8')) as object);
    console.log(JSON.stringify(problems));
    return;
  }
  const target = writeOpenApiFile(path.join(projectRoot(), 'dist', 'openapi.json'), process.env.API_URL);
  console.log(target);
  const problems = await lintOpenApi(JSON.parse(readFileSync(target, 'utf8')) as object);
  for (const p of problems) console.error(`${p.severity} ${p.ruleId} ${p.pointer}: ${p.message}`);
  console.log(`OpenAPI lint (Redocly recommended-strict + rules for tools): ${problems.length} problems`);
  if (problems.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
