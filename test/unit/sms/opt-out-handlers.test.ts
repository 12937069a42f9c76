/**
 * The opt-out handlers (issue 14 item 4) inside one process: API Gateway events in, DynamoDB calls out
 * (aws-sdk-client-mock at the SDK boundary). GET/DELETE /sms/opt-outs/{number}, and POST /sms refusing an opted-out
 * number with 422 RECIPIENT_OPTED_OUT.
 */
import '../../helpers/env';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import 'aws-sdk-client-mock-jest';
import { handler as accept } from '../../../functions/sms-accept/handler';
import { handler as getOptOut } from '../../../functions/sms-opt-out-get/handler';
import { handler as deleteOptOut } from '../../../functions/sms-opt-out-delete/handler';
import { apiGatewayEvent, lambdaContext } from '../../helpers/lambda-events';
import { mockSmsAwsClients, setSmsHandlerEnvironment } from './handler-environment';

setSmsHandlerEnvironment();
const { doc, sqs, reset } = mockSmsAwsClients();

beforeEach(() => reset());

const context = lambdaContext();

/** A request by the API key `key-7` (the opt-out lift is recorded as `api:key-7`). */
const apiEvent = (
  method: string,
  path: string,
  extra: Partial<APIGatewayProxyEvent> = {},
): APIGatewayProxyEvent =>
  apiGatewayEvent(method, path, {
    requestContext: {
      requestId: 'req-1',
      identity: { apiKeyId: 'key-7' },
    } as APIGatewayProxyEvent['requestContext'],
    ...extra,
  });

const parse = (result: APIGatewayProxyResult) => JSON.parse(result.body) as Record<string, unknown>;

const stored = {
  number: '+6591234567',
  senders: { '+6580000001': { optedOutAt: '2026-03-01T09:00:00.000Z', keyword: 'STOP', umid: 'u-1' } },
  history: [
    { action: 'optOut', sender: '+6580000001', at: '2026-03-01T09:00:00.000Z', via: 'STOP', umid: 'u-1' },
  ],
  version: 1,
};

test('GET answers the stored opt-out of the E.164 number (the + may be left out)', async () => {
  doc
    .on(GetCommand, { TableName: 'opt-outs-table', Key: { number: '+6591234567' } })
    .resolves({ Item: stored });
  const result = await getOptOut(
    apiEvent('GET', '/sms/opt-outs/6591234567', { pathParameters: { number: '6591234567' } }),
    context,
  );
  expect(result.statusCode).toBe(200);
  expect(parse(result)).toEqual({
    ok: true,
    number: '+6591234567',
    optedOut: true,
    senders: [
      { sender: '+6580000001', optedOutAt: '2026-03-01T09:00:00.000Z', keyword: 'STOP', umid: 'u-1' },
    ],
    history: stored.history,
  });
});

test('GET of a bad number is 400 INVALID_DESTINATION without reading the table', async () => {
  const result = await getOptOut(
    apiEvent('GET', '/sms/opt-outs/0123', { pathParameters: { number: '0123' } }),
    context,
  );
  expect(result.statusCode).toBe(400);
  expect(parse(result)).toMatchObject({ ok: false, error: { code: 'INVALID_DESTINATION' } });
  expect(doc).not.toHaveReceivedCommand(GetCommand);
});

test('DELETE ?sender= lifts that sender with a version-guarded write naming the API key', async () => {
  doc.on(GetCommand, { TableName: 'opt-outs-table' }).resolvesOnce({ Item: stored }).resolves({});
  doc.on(PutCommand).resolves({});
  const result = await deleteOptOut(
    apiEvent('DELETE', '/sms/opt-outs/%2B6591234567', {
      pathParameters: { number: '+6591234567' },
      queryStringParameters: { sender: '6580000001' },
    }),
    context,
  );
  expect(result.statusCode).toBe(200);
  expect(parse(result)).toEqual({
    ok: true,
    number: '+6591234567',
    lifted: ['+6580000001'],
    optedOut: false,
  });
  expect(doc).toHaveReceivedCommandWith(PutCommand, {
    TableName: 'opt-outs-table',
    ConditionExpression: '#version = :version',
    ExpressionAttributeValues: { ':version': 1 },
    Item: expect.objectContaining({
      senders: {},
      history: [...stored.history, expect.objectContaining({ action: 'optIn', via: 'api:key-7' })],
      version: 2,
    }),
  });
});

test('POST /sms to an opted-out number is 422 RECIPIENT_OPTED_OUT: nothing stored or queued', async () => {
  doc.on(GetCommand, { TableName: 'opt-outs-table' }).resolves({ Item: stored });
  const result = await accept(
    apiEvent('POST', '/sms', {
      body: JSON.stringify({ destination: '+6591234567', text: 'Sale!', source: '+6580000001' }),
    }),
    context,
  );
  expect(result.statusCode).toBe(422);
  expect(parse(result)).toMatchObject({ ok: false, error: { code: 'RECIPIENT_OPTED_OUT' } });
  expect(doc).not.toHaveReceivedCommand(PutCommand);
  expect(sqs).not.toHaveReceivedCommand(SendMessageBatchCommand);
});
