/**
 * The Lambda runtime stand-in shared by the local gateway and the queue pollers: loading a function's handler
 * from the catalogue, a Lambda-shaped context, and the function timeout.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { FUNCTIONS, type FunctionName } from '../../functions/shared/catalogue';
import { functionEntry } from '../paths';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './constants';

/** A Lambda handler as the functions export it (async; the callback style is not used in this project). */
export type LambdaHandler<E = unknown, R = unknown> = (event: E, context: Context) => Promise<R>;

/** Resolves a function's handler; injectable so tests can drive the gateway and pollers with inline handlers. */
export type HandlerLoader = (functionName: FunctionName) => Promise<LambdaHandler>;

export class HandlerNotFoundError extends Error {
  constructor(functionName: string, cause?: unknown) {
    super(`functions/${functionName}/handler.ts does not export a handler function`, { cause });
    this.name = 'HandlerNotFoundError';
  }
}

export class FunctionTimeoutError extends Error {
  constructor(functionName: string, timeoutMs: number) {
    super(`${functionName} did not finish within its timeout of ${timeoutMs} ms`);
    this.name = 'FunctionTimeoutError';
  }
}

/** Imports a handler file and returns its `handler` export (ESM `handler` or CommonJS `default.handler`). */
export async function importHandler(functionName: FunctionName, entry: string): Promise<LambdaHandler> {
  // An absolute path (not a file:// URL) works both under tsx (ESM) and under Jest (CommonJS via swc).
  const mod = (await import(entry)) as { handler?: unknown; default?: unknown };
  const handler = mod.handler ?? (mod.default as { handler?: unknown } | undefined)?.handler;
  if (typeof handler !== 'function') throw new HandlerNotFoundError(functionName);
  return handler as LambdaHandler;
}

/**
 * Loads each function once and keeps it (like a warm Lambda container keeps its module); lazy, so the stack
 * starts without loading every function. A failed load is not kept, so fixing the file and retrying works
 * without a restart.
 */
export function cachingLoader(load: HandlerLoader): HandlerLoader {
  const cache = new Map<FunctionName, Promise<LambdaHandler>>();
  return (functionName) => {
    let loaded = cache.get(functionName);
    if (!loaded) {
      loaded = load(functionName);
      loaded.catch(() => cache.delete(functionName));
      cache.set(functionName, loaded);
    }
    return loaded;
  };
}

/**
 * Imports functions/<name>/handler.ts into this thread. Every function then shares this process's environment
 * and module state, so the local stack runs each in its own sandbox instead (lib/local/sandbox.ts); this loader is
 * for driving the gateway or pollers with the real handlers in tests.
 */
export function catalogueHandlerLoader(root?: string): HandlerLoader {
  return cachingLoader((functionName) => importHandler(functionName, functionEntry(functionName, root)));
}

export function functionTimeoutMs(functionName: FunctionName): number {
  return (FUNCTIONS[functionName]?.timeoutSeconds ?? 30) * 1000;
}

/** A context carrying what Powertools and middy read: names, request id, memory and the remaining time. */
export function lambdaContext(
  functionName: string,
  timeoutMs: number,
  memoryMb?: number,
  awsRequestId: string = randomUUID(),
): Context {
  const deadline = Date.now() + timeoutMs;
  const memory = memoryMb ?? FUNCTIONS[functionName as FunctionName]?.memoryMb ?? 128;
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: String(memory),
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${awsRequestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Runs a handler with Lambda's timeout: past the deadline the invocation counts as failed, as Lambda would
 * report it. (Lambda would also freeze the sandbox; locally the late work simply finishes unobserved.)
 */
export async function invokeWithTimeout<R>(
  functionName: string,
  handler: LambdaHandler<unknown, R>,
  event: unknown,
  timeoutMs: number,
): Promise<R> {
  const context = lambdaContext(functionName, timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FunctionTimeoutError(functionName, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => handler(event, context)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
