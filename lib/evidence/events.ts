/**
 * Lambda events for invoking a function bundle directly (cold-start measurements): the REST API proxy event API
 * Gateway sends for a catalogue route, and the SQS event an event source mapping sends.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, SQSEvent } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../local/constants';
import { ROUTES, type FunctionName } from '../../functions/shared/catalogue';

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
  const body =
    input.body === undefined
      ? null
      : typeof input.body === 'string'
        ? input.body
        : JSON.stringify(input.body);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(input.apiKey ? { 'x-api-key': input.apiKey } : {}),
    ...input.headers,
  };
  const requestId = randomUUID();
  const hasQuery = input.query && Object.keys(input.query).length > 0;
  return {
    resource: route.path,
    path,
    httpMethod: route.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: hasQuery ? input.query! : null,
    multiValueQueryStringParameters: hasQuery
      ? Object.fromEntries(Object.entries(input.query!).map(([k, v]) => [k, [v]]))
      : null,
    pathParameters: Object.keys(params).length > 0 ? params : null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'bench',
      authorizer: undefined,
      domainName: 'bench.local',
      domainPrefix: 'bench',
      extendedRequestId: requestId,
      httpMethod: route.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: input.apiKey ?? null,
        apiKeyId: input.apiKey ? 'bench-api-key' : null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: null,
        userAgent: 'bench',
        userArn: null,
      },
      path: `/bench${path}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTime: new Date().toUTCString(),
      requestTimeEpoch: Date.now(),
      resourceId: 'bench',
      resourcePath: route.path,
      stage: 'bench',
    },
  };
}

/** An SQS event with one record per body; `groupId` makes FIFO records (MessageGroupId, SequenceNumber). */
export function sqsEvent(queueArn: string, bodies: unknown[], groupId?: string): SQSEvent {
  const now = String(Date.now());
  return {
    Records: bodies.map((body, i) => ({
      messageId: randomUUID(),
      receiptHandle: `bench-${randomUUID()}`,
      body: JSON.stringify(body),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: now,
        SenderId: 'bench',
        ApproximateFirstReceiveTimestamp: now,
        ...(groupId
          ? { MessageGroupId: groupId, MessageDeduplicationId: randomUUID(), SequenceNumber: String(i + 1) }
          : {}),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: LOCAL_REGION,
    })),
  };
}
