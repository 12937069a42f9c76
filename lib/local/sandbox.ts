/**
 * Function sandboxes: each function of the local stack runs on its own worker thread, started on its first
 * invocation (a cold start) and kept warm until the stack stops. A sandbox's process.env holds only that function's
 * environment (functions/shared/catalogue.ts functionEnvironment, plus the runtime variables Lambda would set), and
 * its modules — SDK clients with the function's own credentials, cached secrets and settings — are its own, so two
 * functions running at once never see each other's variables or clients, as in AWS. The sandbox runs the function's
 * esbuild bundle (lib/local/sandbox-bundles.ts), as Lambda does. Invocations are messages; the timeout stays with
 * the caller (lib/local/lambda.ts invokeWithTimeout).
 */
import { Worker } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import type { FunctionName } from '../../functions/shared/catalogue';
import { projectRoot } from '../paths';
import { cachingLoader, HandlerNotFoundError, type HandlerLoader, type LambdaHandler } from './lambda';
import { sandboxBundles, type SandboxBundles } from './sandbox-bundles';

/** workerData of the sandbox runtime (lib/local/sandbox-runtime.ts). */
export interface SandboxData {
  functionName: FunctionName;
  entry: string;
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

export type SandboxRequest =
  | { type: 'invoke'; id: number; event: unknown; remainingMs: number; awsRequestId: string }
  | { type: 'environment'; id: number };

export type SandboxReply =
  | { type: 'ready' }
  | { type: 'loadFailed'; error: SerializedError }
  | { type: 'result'; id: number; value?: unknown; error?: SerializedError }
  | { type: 'environment'; id: number; value: Record<string, string> };

/** The sandbox's thread ended (a crash, like a Lambda runtime exit) while invocations were under way. */
export class SandboxExitedError extends Error {
  constructor(functionName: string, detail: string) {
    super(`The sandbox of ${functionName} ended: ${detail}`);
    this.name = 'SandboxExitedError';
  }
}

/** An error the function threw, carried over from its thread with its name, message and stack. */
function revive(error: SerializedError): Error {
  const revived = new Error(error.message);
  revived.name = error.name;
  if (error.stack) revived.stack = error.stack;
  return revived;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

class Sandbox {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  readonly ready: Promise<void>;
  /** Set once the thread has ended; the manager then starts a fresh sandbox on the next call. */
  ended = false;
  private retiring = false;

  constructor(
    readonly functionName: FunctionName,
    bundles: SandboxBundles,
    environment: Record<string, string>,
  ) {
    this.worker = new Worker(bundles.runtime, {
      workerData: { functionName, entry: bundles.functionBundle(functionName) } satisfies SandboxData,
      // Its own copy: what the function sets or reads stays in its sandbox.
      env: environment,
      // Plain bundles: no TypeScript loader flags inherited from this process.
      execArgv: [],
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (message: SandboxReply) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'loadFailed') {
          reject(
            message.error.name === 'HandlerNotFoundError'
              ? new HandlerNotFoundError(functionName)
              : revive(message.error),
          );
          void this.stop();
        } else this.settle(message);
      });
      const end = (error: Error) => {
        this.ended = true;
        reject(error);
        for (const waiting of this.pending.values()) waiting.reject(error);
        this.pending.clear();
      };
      this.worker.once('error', (error) => end(new SandboxExitedError(functionName, String(error))));
      this.worker.once('exit', (code) => end(new SandboxExitedError(functionName, `exit code ${code}`)));
    });
    this.ready.catch(() => undefined);
  }

  private settle(message: Extract<SandboxReply, { type: 'result' | 'environment' }>): void {
    const waiting = this.pending.get(message.id);
    if (!waiting) return; // Answered after the caller's timeout: nobody listens any more.
    this.pending.delete(message.id);
    if (message.type === 'result' && message.error) waiting.reject(revive(message.error));
    else waiting.resolve(message.value);
    if (this.retiring && this.pending.size === 0) void this.stop();
  }

  private request(build: (id: number) => SandboxRequest): Promise<unknown> {
    if (this.ended) return Promise.reject(new SandboxExitedError(this.functionName, 'already ended'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(build(id));
    });
  }

  invoke(event: unknown, context: Context): Promise<unknown> {
    return this.request((id) => ({
      type: 'invoke',
      id,
      event,
      remainingMs: context.getRemainingTimeInMillis(),
      awsRequestId: context.awsRequestId,
    }));
  }

  async environment(): Promise<Record<string, string>> {
    return (await this.request((id) => ({ type: 'environment', id }))) as Record<string, string>;
  }

  /** Takes no new work; ends once the invocations under way have answered (as Lambda retires an old sandbox). */
  retire(): void {
    this.retiring = true;
    if (this.pending.size === 0) void this.stop();
  }

  async stop(): Promise<void> {
    this.ended = true;
    await this.worker.terminate();
  }
}

/** The sandboxes of the catalogue's functions, each with the environment `environmentOf` gives it. */
export class FunctionSandboxes {
  private readonly sandboxes = new Map<FunctionName, Sandbox>();
  private stopped = false;
  private bundles: Promise<SandboxBundles> | undefined;
  readonly loader: HandlerLoader;

  constructor(
    private readonly environmentOf: (functionName: FunctionName) => Record<string, string>,
    private readonly root: string = projectRoot(),
  ) {
    this.loader = cachingLoader(async (functionName) => {
      await this.started(functionName);
      // Each invocation goes to the function's current sandbox: one that crashed or was retired is replaced by a
      // fresh one (a new cold start), as Lambda does.
      const handler: LambdaHandler = (event, context) =>
        this.started(functionName).then((sandbox) => sandbox.invoke(event, context));
      return handler;
    });
  }

  /** Bundles the functions (or finds them bundled); the stack starts this early, alongside its other parts. */
  prepare(): Promise<SandboxBundles> {
    this.bundles ??= sandboxBundles(this.root);
    this.bundles.catch(() => (this.bundles = undefined));
    return this.bundles;
  }

  /** The running sandbox of the function, started (and loaded) if needed. */
  private async started(functionName: FunctionName): Promise<Sandbox> {
    const bundles = await this.prepare();
    if (this.stopped) throw new SandboxExitedError(functionName, 'the stack is stopping');
    let sandbox = this.sandboxes.get(functionName);
    if (!sandbox || sandbox.ended) {
      sandbox = new Sandbox(functionName, bundles, this.environmentOf(functionName));
      this.sandboxes.set(functionName, sandbox);
    }
    try {
      await sandbox.ready;
    } catch (error) {
      if (this.sandboxes.get(functionName) === sandbox) this.sandboxes.delete(functionName);
      throw error;
    }
    return sandbox;
  }

  /** Retires the function's sandbox, so its next invocation starts a new one (e.g. with a changed environment). */
  recycle(functionName: FunctionName): void {
    const sandbox = this.sandboxes.get(functionName);
    this.sandboxes.delete(functionName);
    sandbox?.retire();
  }

  /** process.env as the function sees it inside its sandbox. */
  async environment(functionName: FunctionName): Promise<Record<string, string>> {
    return (await this.started(functionName)).environment();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.sandboxes.values()];
    this.sandboxes.clear();
    await Promise.all(all.map((sandbox) => sandbox.stop()));
  }
}
