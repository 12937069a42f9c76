/**
 * The one infra test that bundles for real, as `cdk synth` does: esbuild through NodejsFunction (no Docker), ESM
 * output with the createRequire banner, the AWS SDK inside the bundle, a source map, and a module Node can load
 * that exports `handler`. It skips (saying which) only while a handler file does not exist yet.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EXTERNAL_MODULES, ESM_REQUIRE_BANNER } from '../../lib/constructs/bridge-function';
import { functionEntry } from '../../lib/paths';
import { FUNCTIONS, QUEUES, SECRETS, TABLES, type FunctionName } from '../../functions/shared/catalogue';
import { BridgeStack } from '../../lib/stack';
import { functionIds, resourcesOfType } from './support';

const names = Object.keys(FUNCTIONS) as FunctionName[];
const missing = names.filter((name) => !existsSync(functionEntry(name)));
if (missing.length > 0) {
  console.warn(`Skipping the real bundling test: no handler file yet for ${missing.join(', ')}`);
}
const testWhenComplete = missing.length > 0 ? test.skip : test;

let outdir: string;
let assets: Record<FunctionName, string>;

beforeAll(() => {
  if (missing.length > 0) return;
  outdir = mkdtempSync(path.join(os.tmpdir(), 'bridge-cdk-out-'));
  // Asset metadata (as the CDK CLI enables it) tells where each function's bundle was staged.
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const template = Template.fromStack(new BridgeStack(app, 'Bundled'));
  const functions = resourcesOfType(template, 'AWS::Lambda::Function');
  assets = {} as Record<FunctionName, string>;
  for (const [name, id] of Object.entries(functionIds(template)) as [FunctionName, string][]) {
    const assetPath = (functions[id] as unknown as { Metadata: Record<string, string> }).Metadata[
      'aws:asset:path'
    ];
    assets[name] = path.join(outdir, assetPath!);
  }
}, 600_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

testWhenComplete(
  'every function is bundled as ESM with the require banner, a source map and the AWS SDK inside but for the credential fallbacks and event streams',
  () => {
    expect(Object.keys(assets).sort()).toEqual([...names].sort());
    for (const name of names) {
      const files = readdirSync(assets[name]);
      expect(files.sort()).toEqual(['index.mjs', 'index.mjs.map']);
      const code = readFileSync(path.join(assets[name], 'index.mjs'), 'utf8');
      expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      // An external SDK would leave an ESM import of @aws-sdk/* behind (the loading test below also proves it:
      // the bundles sit outside the project, where no node_modules can satisfy such an import). Only the
      // credential fallbacks and event streams stay outside, and only behind dynamic imports the environment
      // credentials and the functions' operations never reach.
      expect([...code.matchAll(/from\s*["'](@aws-sdk|@smithy)\/[^"']*/g)].map((m) => m[0])).toEqual([]);
      const dynamic = [...code.matchAll(/import\s*\(\s*["']((?:@aws-sdk|@smithy)\/[^"']*)/g)].map(
        (m) => m[1]!,
      );
      expect(dynamic.filter((module) => !EXTERNAL_MODULES.includes(module))).toEqual([]);
      // No inlined event-stream support (lib/bundling.ts UNUSED_SDK_MODULES).
      expect(code).not.toContain('":message-type"');
      expect(dynamic.length).toBeGreaterThan(0);
      expect(code).toMatch(/AWS_ACCESS_KEY_ID/);
      // Functions use zod/mini (functions/shared/zod.ts); classic zod would add about 60 KB to every bundle.
      const { sources } = JSON.parse(readFileSync(path.join(assets[name], 'index.mjs.map'), 'utf8')) as {
        sources: string[];
      };
      expect(sources.filter((source) => source.includes('node_modules/zod/'))).not.toHaveLength(0);
      expect(sources.filter((source) => /node_modules\/zod\/(v4\/classic|v3)\//.test(source))).toEqual([]);
    }
  },
);

testWhenComplete('every bundle loads in Node and exports a handler function', () => {
  // Loading runs module initialisation the way a cold start does, with the environment variable names set.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    PUBLIC_BASE_URL: 'https://bridge.example.com/v1',
  };
  for (const table of Object.values(TABLES))
    env[table.nameEnv] = `bundle-test-${table.nameEnv.toLowerCase()}`;
  for (const queue of Object.values(QUEUES))
    env[queue.urlEnv] = 'https://sqs.eu-west-1.amazonaws.com/111122223333/q';
  for (const secret of Object.values(SECRETS))
    env[secret.nameEnv] = `bundle-test/${secret.nameEnv.toLowerCase()}`;
  const urls = names.map((name) => pathToFileURL(path.join(assets[name], 'index.mjs')).href);
  const script = `
    const results = {};
    for (const url of ${JSON.stringify(urls)}) {
      try { results[url] = typeof (await import(url)).handler; } catch (error) { results[url] = String(error); }
    }
    process.stdout.write(JSON.stringify(results));`;
  // --no-warnings: the SDK warns about Node 20 on this machine; Lambda runs Node 22.
  const run = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
    env,
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  const results = JSON.parse(run.stdout) as Record<string, string>;
  expect(Object.values(results)).toEqual(urls.map(() => 'function'));
});
