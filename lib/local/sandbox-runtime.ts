/**
 * Inside one function sandbox (a worker thread started by lib/local/sandbox.ts, with the function's own
 * process.env): loads the function's bundle and runs the invocations the main thread sends, each with a
 * Lambda-shaped context. Module state (SDK clients, cached secrets and settings) belongs to this function alone,
 * as in its own Lambda sandbox. This file runs bundled (lib/local/sandbox-bundles.ts), not through a loader.
 */
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { FunctionName } from '../../functions/shared/catalogue';
import { importHandler, lambdaContext, type LambdaHandler } from './lambda';
import { installLocalhostResolution } from './localhost';
import type { SandboxData, SandboxReply, SandboxRequest, SerializedError } from './sandbox';

const port = parentPort!;
const { functionName, entry, nice } = workerData as SandboxData;

/**
 * Lowers this thread's CPU priority (lib/local/sandbox.ts BACKGROUND_FUNCTIONS). Only on Linux, where
 * setpriority(2) for the calling task changes this thread alone; elsewhere it would lower the whole local stack.
 */
function lowerPriority(): void {
  if (nice <= 0 || process.platform !== 'linux') return;
  try {
    os.setPriority(0, nice);
  } catch {
    // A sandbox that may not lower its priority (a restricted container) runs at the process's: only slower.
  }
}

function serialize(error: unknown): SerializedError {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

function reply(message: SandboxReply): void {
  try {
    port.postMessage(message);
  } catch (error) {
    // A result that cannot cross threads (e.g. holds a function) is as unusable to Lambda's runtime.
    if (message.type === 'result')
      port.postMessage({ type: 'result', id: message.id, error: serialize(error) });
    else throw error;
  }
}

async function invoke(handler: LambdaHandler, request: Extract<SandboxRequest, { type: 'invoke' }>) {
  const context = lambdaContext(functionName, request.remainingMs, undefined, request.awsRequestId);
  try {
    reply({ type: 'result', id: request.id, value: await handler(request.event, context) });
  } catch (error) {
    reply({ type: 'result', id: request.id, error: serialize(error) });
  }
}

async function main(): Promise<void> {
  // Stack traces of the bundle then name the TypeScript sources.
  process.setSourceMapsEnabled(true);
  lowerPriority();
  // fauxqs queue URLs use `*.localhost` hosts; this thread has its own `dns` module to teach.
  installLocalhostResolution();
  let handler: LambdaHandler;
  try {
    handler = await importHandler(functionName as FunctionName, entry);
  } catch (error) {
    reply({ type: 'loadFailed', error: serialize(error) });
    return;
  }
  port.on('message', (request: SandboxRequest) => {
    if (request.type === 'invoke') void invoke(handler, request);
    else if (request.type === 'environment')
      reply({ type: 'environment', id: request.id, value: { ...process.env } as Record<string, string> });
  });
  reply({ type: 'ready' });
}

void main();
