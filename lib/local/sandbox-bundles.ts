/**
 * The code the function sandboxes run: each function bundled by esbuild as the CDK construct bundles it (ESM, the
 * AWS SDK inside but for the credential fallbacks, the createRequire banner), plus the sandbox runtime
 * (lib/local/sandbox-runtime.ts). A bundle loads in a fraction of the time its hundreds of TypeScript modules take
 * through a loader, which matters with one sandbox per function. Not minified, with source maps, so stack traces
 * name the TypeScript sources. The bundles are kept in the temp directory and reused while none of their inputs
 * has changed (size and modification time), so a test run bundles once.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { FUNCTIONS, type FunctionName } from '../../functions/shared/catalogue';
import { SHARED_BUNDLE_OPTIONS } from '../bundling';
import { functionEntry } from '../paths';

export interface SandboxBundles {
  /** The worker entry: lib/local/sandbox-runtime.ts, bundled. */
  runtime: string;
  /** A function's bundle (its handler and everything it imports). */
  functionBundle(functionName: FunctionName): string;
}

interface Manifest {
  dir: string;
  /** The entry points it was built from (a function added to the catalogue needs a new build). */
  entryPoints: Record<string, string>;
  /** Every input of the build: [path relative to the project root, size, mtimeMs]. */
  inputs: [string, number, number][];
}

const RUNTIME_ENTRY = 'sandbox-runtime';
/** Builds other than the current one are removed once this old (another process may still be loading one). */
const STALE_BUILD_MS = 60 * 60_000;

function cacheRoot(root: string): string {
  const key = createHash('sha256').update(`${root}\0${process.version}`).digest('hex').slice(0, 16);
  return path.join(tmpdir(), 'cognigy-8x8-bridge-sandboxes', key);
}

function layout(dir: string): SandboxBundles {
  return {
    runtime: path.join(dir, `${RUNTIME_ENTRY}.mjs`),
    functionBundle: (functionName) => path.join(dir, `${functionName}.mjs`),
  };
}

function unchanged(root: string, manifest: Manifest): boolean {
  try {
    if (!existsSync(layout(manifest.dir).runtime)) return false;
    return manifest.inputs.every(([file, size, mtimeMs]) => {
      const stat = statSync(path.resolve(root, file));
      return stat.size === size && stat.mtimeMs === mtimeMs;
    });
  } catch {
    return false;
  }
}

function readManifest(file: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/** The current bundles of the project at `root`, built now if missing or if any input changed. */
export async function sandboxBundles(root: string): Promise<SandboxBundles> {
  const cache = cacheRoot(root);
  const manifestFile = path.join(cache, 'current.json');
  const entryPoints: Record<string, string> = {
    [RUNTIME_ENTRY]: path.join(root, 'lib', 'local', 'sandbox-runtime.ts'),
  };
  for (const name of Object.keys(FUNCTIONS) as FunctionName[]) entryPoints[name] = functionEntry(name, root);
  const current = readManifest(manifestFile);
  if (
    current &&
    JSON.stringify(current.entryPoints) === JSON.stringify(entryPoints) &&
    unchanged(root, current)
  ) {
    return layout(current.dir);
  }

  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(path.join(cache, 'build-'));
  const result = await build({
    entryPoints,
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    ...SHARED_BUNDLE_OPTIONS,
    external: [...SHARED_BUNDLE_OPTIONS.external],
    mainFields: [...SHARED_BUNDLE_OPTIONS.mainFields],
    // Not minified: readable stack traces locally; the target is the Node running the local stack.
    target: `node${process.versions.node}`,
    absWorkingDir: root,
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs)
    // Virtual inputs (e.g. esbuild's own `<runtime>`) have no file to watch.
    .filter((file) => !file.startsWith('<'))
    .map((file): [string, number, number] => {
      const stat = statSync(path.resolve(root, file));
      return [file, stat.size, stat.mtimeMs];
    });
  // Written under a temporary name and renamed, so a concurrent reader sees the old manifest or the new one.
  const next = `${manifestFile}.${process.pid}.tmp`;
  writeFileSync(next, JSON.stringify({ dir, entryPoints, inputs } satisfies Manifest));
  renameSync(next, manifestFile);
  removeStaleBuilds(cache, dir);
  return layout(dir);
}

function removeStaleBuilds(cache: string, keep: string): void {
  for (const entry of readdirSync(cache)) {
    const dir = path.join(cache, entry);
    if (!entry.startsWith('build-') || dir === keep) continue;
    try {
      if (Date.now() - statSync(dir).mtimeMs > STALE_BUILD_MS) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Another process removed it first.
    }
  }
}
