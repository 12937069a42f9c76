/**
 * Integration-test helpers around the real local stack (lib/local/stack.ts): start it quietly and isolated from
 * the developer's shell, call its API over real HTTP, and tell when its queues have drained.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { localSqsClient } from '../../lib/local/aws';
import { startLocalStack, type LocalStack, type StartLocalStackOptions } from '../../lib/local/stack';
import type { QueueName, SecretName } from '../../functions/shared/catalogue';
import type { SecretValue } from '../../functions/shared/secrets';
import { waitFor, type WaitOptions } from './wait';

/**
 * Starts the local stack on free ports, silent, with the simulators: `env` holds only what the test gives (so real
 * 8x8/Cognigy credentials in the shell are never used by tests), the functions log errors only (LOG_LEVEL in
 * the shell raises it when debugging) and are loaded before it returns. `options` are merged over these defaults.
 */
export async function startTestStack(options: StartLocalStackOptions = {}): Promise<LocalStack> {
  const stack = await startLocalStack({
    port: 0,
    quiet: true,
    ...options,
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'ERROR', ...options.env },
  });
  // Every function's sandbox loaded before the first request, as `npm start` does: a test then measures the
  // bridge's behaviour, not which cold start finished first.
  await stack.warmUp();
  return stack;
}

/**
 * A secret's current value as the stack wrote it (read from the Secrets Manager stand-in; the functions read it
 * in their own sandboxes, with their own credentials).
 */
export function stackSecret<N extends SecretName>(
  stack: Pick<LocalStack, 'secretsManager' | 'secretNames'>,
  name: N,
): SecretValue<N> {
  const value = stack.secretsManager.getSecretString(stack.secretNames[name]);
  if (value === undefined) throw new Error(`The stack has not written the ${name} secret`);
  return JSON.parse(value) as SecretValue<N>;
}

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  /** Parsed JSON body (undefined when empty or not JSON). */
  body: T;
  text: string;
}

export interface ApiClient {
  request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiAnswer<T>>;
  get<T = Record<string, unknown>>(path: string): Promise<ApiAnswer<T>>;
  post<T = Record<string, unknown>>(path: string, body?: unknown): Promise<ApiAnswer<T>>;
}

/** A JSON client for the stack's gateway that sends its API key (override per call through `headers`). */
export function apiClient(stack: Pick<LocalStack, 'urls' | 'apiKey'>): ApiClient {
  const request = async <T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer<T>> => {
    const response = await fetch(`${stack.urls.gateway}${path}`, {
      method,
      headers: {
        'x-api-key': stack.apiKey,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, body: json as T, text };
  };
  return {
    request,
    get: (path) => request('GET', path),
    post: (path, body) => request('POST', path, body),
  };
}

/** An SQS client for the stack's stand-in (does not follow the queue URLs' `*.localhost` host). */
export function stackSqsClient(stack: Pick<LocalStack, 'urls'>): SQSClient {
  return localSqsClient({ url: stack.urls.sqs });
}

/** Messages on a queue and its DLQ: visible, in flight (being processed or waiting for a retry) and delayed. */
export async function queueDepth(
  sqs: SQSClient,
  stack: Pick<LocalStack, 'queues'>,
  queue: QueueName,
): Promise<{ visible: number; inFlight: number; delayed: number; dlq: number }> {
  const read = async (url: string) => {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  };
  const [main, dlq] = await Promise.all([read(stack.queues[queue].url), read(stack.queues[queue].dlqUrl)]);
  return { ...main, dlq: dlq.visible + dlq.inFlight + dlq.delayed };
}

/**
 * Waits until the given queues hold nothing to process (nothing visible, in flight or delayed), checked on two
 * probes in a row so a message handed from one consumer to the next is not missed. `beforeProbe` lets a caller
 * first wait for its own producers (e.g. a simulator's webhook deliveries) to finish.
 */
export async function waitForDrained(
  sqs: SQSClient,
  stack: Pick<LocalStack, 'queues'>,
  queues: readonly QueueName[],
  options: WaitOptions & { beforeProbe?: () => Promise<unknown> } = {},
): Promise<void> {
  let quietProbes = 0;
  await waitFor(
    `queues ${queues.join(', ')} to drain`,
    async () => {
      await options.beforeProbe?.();
      const depths = await Promise.all(queues.map((q) => queueDepth(sqs, stack, q)));
      const busy = depths.some((d) => d.visible + d.inFlight + d.delayed > 0);
      quietProbes = busy ? 0 : quietProbes + 1;
      return quietProbes >= 2 ? true : undefined;
    },
    { intervalMs: 50, ...options },
  );
}
