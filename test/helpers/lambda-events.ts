/**
 * What Lambda hands a handler in the handler tests: an invocation context and API Gateway's REST proxy event, with
 * the fields the bridge's middy chain reads. Tests override what they exercise (body, headers, path parameters,
 * the caller's API key id).
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

/** An invocation context with `remainingMs` left before the function's timeout. */
export function lambdaContext(remainingMs = 9_000): Context {
  return {
    functionName: 'test',
    functionVersion: '1',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
    memoryLimitInMB: '256',
    awsRequestId: 'req-1',
    logGroupName: 'g',
    logStreamName: 's',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A JSON request to `path` (also the resource) as API Gateway passes it on, without a body unless given. */
export function apiGatewayEvent(
  method: string,
  path: string,
  extra: Partial<APIGatewayProxyEvent> = {},
): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    path,
    resource: path,
    body: null,
    isBase64Encoded: false,
    headers: { 'Content-Type': 'application/json' },
    multiValueHeaders: {},
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: { requestId: 'req-1' } as APIGatewayProxyEvent['requestContext'],
    ...extra,
  };
}
