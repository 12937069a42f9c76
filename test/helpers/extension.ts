/**
 * The Cognigy Extension as Cognigy gets it: built and packed by the same function as `npm run extension`
 * (lib/extension.ts) into a directory of the test's own, unpacked from the .tar.gz, its dependencies provided the
 * way Cognigy's install would (node_modules beside it; here a link to the project's), and loaded with `require`.
 * A recording `cognigy` object runs a node's function as a flow would and records what it stored where and which
 * exit it took.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IConnectionSchema, INodeDescriptor } from '@cognigy/extension-tools';
import { buildExtension } from '../../lib/extension';
import { projectRoot } from '../../lib/paths';

export interface LoadedExtension {
  /** The directory the archive was unpacked into. */
  dir: string;
  archive: string;
  /** Top-level entries of the archive, as `tar -tzf` lists them. */
  entries: string[];
  module: { nodes: INodeDescriptor[]; connections: IConnectionSchema[]; options: { label?: string } };
  packageJson: { main: string; dependencies?: Record<string, string>; name: string; version: string };
  cleanup(): void;
}

export function loadBuiltExtension(): LoadedExtension {
  const root = projectRoot();
  const work = mkdtempSync(path.join(tmpdir(), 'cognigy-extension-'));
  const { archive } = buildExtension({ outDir: path.join(work, 'stage'), root });
  const dir = path.join(work, 'unpacked');
  mkdirSync(dir);
  execFileSync('tar', ['-xzf', archive, '-C', dir]);
  const entries = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).split('\n').filter(Boolean);
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const load = createRequire(path.join(dir, 'package.json'));
  const packageJson = load('./package.json') as LoadedExtension['packageJson'];
  const loaded = load(`./${packageJson.main}`) as { default: LoadedExtension['module'] };
  return {
    dir,
    archive,
    entries,
    module: loaded.default,
    packageJson,
    cleanup: () => rmSync(work, { recursive: true, force: true }),
  };
}

export type Storage = { where: 'input' | 'context'; key: string; value: unknown; mode?: string };

/** What one run of a node did. */
export interface NodeRun {
  /** Every store, in order. */
  stored: Storage[];
  /** The type of the exit (child node) it took, if any. */
  exit?: string;
  /** The exit's label ("On Success", "Relayed", …). */
  exitLabel?: string;
  stopped: boolean;
  said: unknown[];
  input: Record<string, unknown>;
  context: Record<string, unknown>;
  /** The last store under `key`. */
  value<T = Record<string, unknown>>(where: 'input' | 'context', key: string): T;
}

export interface RunOptions {
  input?: Record<string, unknown>;
  context?: Record<string, unknown>;
  /** Extra node API members (e.g. getTranscript), as a newer Cognigy runtime offers them. */
  api?: Record<string, unknown>;
  nodeId?: string;
}

/** A node's config as a flow builder leaves it: every field's default, overridden by `config`. */
export function configOf(node: INodeDescriptor, config: Record<string, unknown>): Record<string, unknown> {
  const defaults = Object.fromEntries(
    (node.fields ?? []).filter((f) => f.defaultValue !== undefined).map((f) => [f.key, f.defaultValue]),
  );
  return { ...defaults, ...config };
}

/** Runs `type`'s function with a recording `cognigy` object. */
export async function runNode(
  extension: LoadedExtension,
  type: string,
  config: Record<string, unknown>,
  options: RunOptions = {},
): Promise<NodeRun> {
  const node = extension.module.nodes.find((n) => n.type === type);
  if (!node?.function) throw new Error(`No node ${type} with a function`);
  const children = extension.module.nodes.filter((n) => n.parentType === type);
  const childConfigs = children.map((child) => ({ id: `id-${child.type}`, type: child.type, config: {} }));
  const input: Record<string, unknown> = { ...options.input };
  const context: Record<string, unknown> = structuredClone(options.context ?? {});
  const stored: Storage[] = [];
  const said: unknown[] = [];
  let next: string | undefined;
  let stopped = false;
  const api = {
    addToInput: (key: string, value: unknown) => {
      stored.push({ where: 'input', key, value });
      input[key] = value;
    },
    addToContext: (key: string, value: unknown, mode: string) => {
      stored.push({ where: 'context', key, value, mode });
      context[key] = value;
    },
    setNextNode: (id: string) => {
      next = id;
    },
    stopExecution: () => {
      stopped = true;
    },
    say: (text: string, data?: unknown) => said.push({ text, data }),
    output: (text: string, data?: unknown) => said.push({ text, data }),
    log: () => undefined,
    ...options.api,
  };
  await node.function({
    cognigy: { api, input, context, profile: {} },
    config: configOf(node, config),
    childConfigs,
    nodeId: options.nodeId ?? `node-${type}`,
  } as unknown as Parameters<NonNullable<INodeDescriptor['function']>>[0]);
  const exit = childConfigs.find((c) => c.id === next)?.type;
  const label = children.find((c) => c.type === exit)?.defaultLabel;
  return {
    stored,
    ...(exit && { exit }),
    ...(typeof label === 'string' && { exitLabel: label }),
    stopped,
    said,
    input,
    context,
    value: <T>(where: 'input' | 'context', key: string) =>
      [...stored].reverse().find((s) => s.where === where && s.key === key)?.value as T,
  };
}
