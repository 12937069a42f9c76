/**
 * Lambda events for invoking a function bundle directly (cold-start measurements): the REST API proxy event the
 * local API Gateway (lib/local/gateway.ts) builds for a catalogue route, and the SQS event the local poller builds.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, SQSEvent } from 'aws-lambda';
import { LOCAL_REGION } from '../local/constants';
import { buildProxyEvent } from '../local/gateway';
import { toSqsRecord } from '../local/poller';
import { ROUTES, type FunctionName } from '../../functions/shared/catalogue';
import { jsonText } from './load';

export interface ApiEventInput {
  function: FunctionName;
  body?: unknown;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  apiKey?: string;
}

/** The proxy event of the catalogue route served by `input.function`, with `{param}`s filled in. */
export function apiEvent(input: ApiEventInput): APIGatewayProxyEvent {
  const route = ROUTES.find((r) => r.function === input.function);
  if (!route) throw new Error(`No route is served by ${input.function}`);
  const params = input.pathParameters ?? {};
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
  const url = new URL(path, 'http://127.0.0.1');
  for (const [name, value] of Object.entries(input.query ?? {})) url.searchParams.append(name, value);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(input.apiKey ? { 'x-api-key': input.apiKey } : {}),
    ...input.headers,
  };
  return buildProxyEvent({
    req: {
      rawHeaders: Object.entries(headers).flat(),
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
      httpVersion: '1.1',
      socket: { remoteAddress: '127.0.0.1' },
    },
    url,
    route,
    pathParameters: params,
    body: Buffer.from(jsonText(input.body) ?? '', 'utf8'),
    requestId: randomUUID(),
    startedAt: Date.now(),
    stage: 'bench',
    apiKey: input.apiKey ?? null,
  });
}

/**
 * An SQS event with one record per body, as the local poller (lib/local/poller.ts) delivers it; `groupId` makes
 * FIFO records (MessageGroupId, SequenceNumber).
 */
export function sqsEvent(queueArn: string, bodies: unknown[], groupId?: string): SQSEvent {
  return {
    Records: bodies.map((body, i) =>
      toSqsRecord(
        {
          MessageId: randomUUID(),
          ReceiptHandle: `bench-${randomUUID()}`,
          Body: JSON.stringify(body),
          Attributes: {
            SenderId: 'bench',
            ...(groupId
              ? {
                  MessageGroupId: groupId,
                  MessageDeduplicationId: randomUUID(),
                  SequenceNumber: String(i + 1),
                }
              : {}),
          },
        },
        queueArn,
        LOCAL_REGION,
      ),
    ),
  };
}
