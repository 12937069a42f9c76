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
  /** Niceness the sandbox's thread takes (0: the process's own priority). */
  nice: number;
}

/**
 * Functions whose work nobody waits on: the SMS delivery worker (a queue consumer; the SMS it sends were answered
 * 202 long before), 8x8's delivery receipts (a status change) and the outbox sweeper (a timer). In AWS each runs in
 * its own execution environment and never takes CPU from a route; in the one process of the local stack they
 * share the machine's cores with the routes Cognigy flows wait on. Their sandboxes run at a lower CPU priority
 * (`LOCAL_BACKGROUND_NICE`), so a burst of deliveries and receipts delays them rather than POST /sms. They still
 * get every core nothing else wants.
 */
export const BACKGROUND_FUNCTIONS: ReadonlySet<FunctionName> = new Set<FunctionName>([
  'sms-deliver',
  'sms-receipt',
  'sms-sweeper',
]);

/**
 * Default niceness of the BACKGROUND_FUNCTIONS' threads: under a full machine Linux then gives one about a third of
 * the CPU share of a route's (weights 335 and 1024). On the 2-core bench, with the warm-up, single runs of the POST
 * /sms accept p99 during delivery went from 0.28–0.57× to 0.16–0.47× the direct 8x8 call's (BENCHMARKS.md).
 */
export const DEFAULT_BACKGROUND_NICE = 5;

export interface FunctionSandboxesOptions {
  /** Niceness of the BACKGROUND_FUNCTIONS' sandboxes (default DEFAULT_BACKGROUND_NICE; 0: same as the routes). */
  backgroundNice?: number;
  /** The project whose functions are bundled (default: this one). */
  root?: string;
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
    nice: number,
  ) {
    this.worker = new Worker(bundles.runtime, {
      workerData: { functionName, entry: bundles.functionBundle(functionName), nice } satisfies SandboxData,
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
  private readonly root: string;
  private readonly backgroundNice: number;
  readonly loader: HandlerLoader;

  constructor(
    private readonly environmentOf: (functionName: FunctionName) => Record<string, string>,
    options: FunctionSandboxesOptions = {},
  ) {
    this.root = options.root ?? projectRoot();
    this.backgroundNice = options.backgroundNice ?? DEFAULT_BACKGROUND_NICE;
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
      const nice = BACKGROUND_FUNCTIONS.has(functionName) ? this.backgroundNice : 0;
      sandbox = new Sandbox(functionName, bundles, this.environmentOf(functionName), nice);
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
