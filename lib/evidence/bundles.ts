/**
 * Bundle size and cold start of the deployed functions, measured on the artefact Lambda runs: an esbuild bundle
 * made with the options of the CDK construct (lib/constructs/bridge-function.ts → NodejsFunction: ESM, minified,
 * platform node, target node22, main fields module,main, the createRequire banner, the AWS SDK bundled but for the
 * credential fallbacks Lambda never reaches).
 *
 * The cold start runs each bundle in a fresh `node` process: it imports the bundle and handles a first event, then
 * a second one (warm). The times are taken inside the child, so Node's own process start is not counted (Lambda's
 * runtime start is not part of a function's cold start either). The child's environment points at a running local
 * stack, so the first event does real work (DynamoDB, SQS, Secrets Manager, the simulators).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { SHARED_BUNDLE_OPTIONS } from '../bundling';
import { functionEntry, projectRoot } from '../paths';
import { FUNCTIONS, type FunctionName } from '../../functions/shared/catalogue';

export interface BundleResult {
  name: FunctionName;
  file: string;
  /** Size of index.mjs (the source map is a separate file and not loaded at run time). */
  bytes: number;
  /** Largest inputs by bytes in the output, to see what a bundle is made of. */
  topInputs: { path: string; bytes: number }[];
}

/** esbuild options equal to what NodejsFunction runs for BridgeFunction (see the construct's `bundling`). */
export function constructBundleOptions(entry: string, outfile: string, root: string = projectRoot()) {
  return {
    entryPoints: [entry],
    outfile,
    ...SHARED_BUNDLE_OPTIONS,
    external: [...SHARED_BUNDLE_OPTIONS.external],
    mainFields: [...SHARED_BUNDLE_OPTIONS.mainFields],
    target: 'node22',
    minify: true,
    absWorkingDir: root,
  };
}

/** `root`: the checkout whose functions are bundled (another one for BENCH_COLD_VERSUS). */
export async function bundleFunction(
  name: FunctionName,
  outDir: string,
  root: string = projectRoot(),
): Promise<BundleResult> {
  const dir = path.join(outDir, name);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'index.mjs');
  const result = await build({
    ...constructBundleOptions(functionEntry(name, root), file, root),
    metafile: true,
  });
  return { name, file, bytes: statSync(file).size, topInputs: topInputs(result.metafile, file, root) };
}

function topInputs(metafile: Metafile, file: string, root: string): { path: string; bytes: number }[] {
  const output = Object.entries(metafile.outputs).find(([out]) => path.resolve(root, out) === file)?.[1];
  if (!output) return [];
  // Grouped by package (or by source folder for our own code), which is what one can act on.
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const key = match ? match[1]! : input.split('/').slice(0, 2).join('/');
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  return [...byPackage.entries()]
    .map(([p, bytes]) => ({ path: p, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 8);
}

export interface ColdStartResult {
  name: FunctionName;
  /** Importing the bundle (module initialisation included). */
  importMs: number;
  /** The first event, in the same process right after the import. */
  firstInvokeMs: number;
  /** importMs + firstInvokeMs: what the first caller waits for beyond Lambda's own runtime start. */
  coldMs: number;
  /** The second event in the same process. */
  warmMs: number;
  /**
   * CPU time (user + system) the process spent on the import and the first event: the function's own work, which
   * other load on the machine does not inflate the way it inflates wall time (coldMs).
   */
  coldCpuMs?: number;
  /** Short description of each answer (HTTP status or batch failures), to show the work succeeded. */
  answers: [string, string];
}

/**
 * The child: imports the bundle, runs two events through `handler` with a Lambda-shaped context, and writes its
 * timings to a file (stdout belongs to the function's logs).
 */
const CHILD_RUNNER = `
const [bundleUrl, eventsFile, resultFile, functionName, timeoutMs] = process.argv.slice(2);
const { readFileSync, writeFileSync } = await import('node:fs');
const events = JSON.parse(readFileSync(eventsFile, 'utf8'));
const context = (n) => {
  const deadline = Date.now() + Number(timeoutMs);
  return {
    callbackWaitsForEmptyEventLoop: true, functionName, functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:' + functionName,
    memoryLimitInMB: '512', awsRequestId: 'cold-start-' + n, logGroupName: '/aws/lambda/' + functionName,
    logStreamName: 'bench', getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {}, fail() {}, succeed() {},
  };
};
const describe = (r) => r && typeof r === 'object' && 'statusCode' in r ? 'HTTP ' + r.statusCode
  : r && Array.isArray(r.batchItemFailures) ? r.batchItemFailures.length + ' batch failures'
  : r && typeof r === 'object' ? JSON.stringify(r).slice(0, 80) : String(r);
const c0 = process.cpuUsage();
const t0 = performance.now();
const mod = await import(bundleUrl);
const t1 = performance.now();
const first = await mod.handler(events[0], context(1));
const t2 = performance.now();
const c1 = process.cpuUsage(c0);
const second = await mod.handler(events[1], context(2));
const t3 = performance.now();
writeFileSync(resultFile, JSON.stringify({
  importMs: t1 - t0, firstInvokeMs: t2 - t1, warmMs: t3 - t2, coldCpuMs: (c1.user + c1.system) / 1000,
  answers: [describe(first), describe(second)],
}));
process.exit(0);
`;

/** Makes `*.localhost` (the SQS stand-in's queue URL host) resolve in the child, as lib/local/aws.ts does in-process. */
const LOCALHOST_PRELOAD = `
const dns = require('node:dns');
const original = dns.lookup;
dns.lookup = function (hostname, options, callback) {
  const cb = typeof options === 'function' ? options : callback;
  if (typeof hostname === 'string' && hostname.toLowerCase().endsWith('.localhost')) {
    const all = typeof options === 'object' && options !== null && options.all === true;
    process.nextTick(() => (all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)));
    return {};
  }
  return original.call(dns, hostname, options, callback);
};
`;

export class ColdStartError extends Error {
  constructor(name: FunctionName, detail: string) {
    super(`Cold start of ${name} failed: ${detail}`);
    this.name = 'ColdStartError';
  }
}

/**
 * Runs `bundle` in a fresh Node process with `env` and two events (cold, then warm). `env` should be the function's
 * environment from the local stack (`stack.functionEnvironment(name)`: its resources, the stand-ins' endpoints and
 * its own credentials), so the function reaches the stack with exactly its grants.
 */
export async function measureColdStart(
  bundle: BundleResult,
  events: [unknown, unknown],
  env: NodeJS.ProcessEnv,
  workDir: string,
  /** Extra node flags for the child, e.g. `--cpu-prof` to see where a cold start goes. */
  nodeArgs: string[] = [],
): Promise<ColdStartResult> {
  const dir = path.join(workDir, `cold-${bundle.name}`);
  mkdirSync(dir, { recursive: true });
  const runner = path.join(dir, 'runner.mjs');
  const preload = path.join(dir, 'localhost.cjs');
  const eventsFile = path.join(dir, 'events.json');
  const resultFile = path.join(dir, 'result.json');
  writeFileSync(runner, CHILD_RUNNER);
  writeFileSync(preload, LOCALHOST_PRELOAD);
  writeFileSync(eventsFile, JSON.stringify(events));
  const timeoutMs = FUNCTIONS[bundle.name].timeoutSeconds * 1000;
  const childEnv: NodeJS.ProcessEnv = {
    ...env,
    POWERTOOLS_SERVICE_NAME: bundle.name,
    AWS_LAMBDA_FUNCTION_NAME: bundle.name,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    // As the construct deploys it by default (no --enable-source-maps: see sourceMapStackTraces), and no
    // TypeScript loader inherited from the benchmark's own process.
    NODE_OPTIONS: '',
  };
  const stderr: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...nodeArgs,
        '--require',
        preload,
        runner,
        pathToFileURL(bundle.file).href,
        eventsFile,
        resultFile,
        bundle.name,
        String(timeoutMs),
      ],
      { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', resolve);
  });
  let measured: Omit<ColdStartResult, 'name' | 'coldMs'>;
  try {
    measured = JSON.parse(readFileSync(resultFile, 'utf8')) as typeof measured;
  } catch {
    throw new ColdStartError(bundle.name, `exit code ${code}; ${stderr.join('').slice(-800)}`);
  }
  return { name: bundle.name, ...measured, coldMs: measured.importMs + measured.firstInvokeMs };
}
