/**
 * The webhooks' verdict metrics (functions/shared/http.ts): every answer of a self-authenticating route is counted as
 * WebhookVerified (2xx) or WebhookRefused (4xx, also per reason = the error code), read from the EMF records
 * Powertools writes to stdout; flow routes count nothing of the kind.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { BridgeError } from '../../../functions/shared/errors';
import { apiHandler, webhookVerdict } from '../../../functions/shared/http';
import { lambdaContext } from '../../helpers/lambda-events';

const context = lambdaContext();

const event = (body: string): APIGatewayProxyEvent =>
  ({
    httpMethod: 'POST',
    path: '/webhooks/8x8/sms',
    body,
    isBase64Encoded: false,
    headers: {},
    pathParameters: null,
    queryStringParameters: null,
    requestContext: { requestId: 'req-1' },
  }) as unknown as APIGatewayProxyEvent;

interface EmfRecord {
  _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [key: string]: unknown;
}

/** The EMF records written while `run` runs: metric names with the dimension values of their record. */
async function emitted(
  run: () => Promise<unknown>,
): Promise<{ name: string; dimensions: Record<string, unknown> }[]> {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((line) => line.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .flatMap((line) => {
      const record = JSON.parse(line) as EmfRecord;
      return record._aws.CloudWatchMetrics.flatMap((directive) => {
        const names = [...new Set(directive.Dimensions.flat())];
        const dimensions = Object.fromEntries(names.map((n) => [n, record[n]]));
        return directive.Metrics.map((m) => ({ name: m.Name, dimensions }));
      });
    });
}

test('the verdict of an answer: 2xx verified, 4xx refused with its code, 5xx neither', () => {
  expect(webhookVerdict(200, { ok: true })).toEqual({ metric: 'WebhookVerified' });
  expect(webhookVerdict(401, { ok: false, error: { code: 'UNAUTHORIZED' } })).toEqual({
    metric: 'WebhookRefused',
    reason: 'UNAUTHORIZED',
  });
  // A code that is not one of ours (or none) never becomes a dimension value of its own.
  expect(webhookVerdict(400, { error: { code: 'drop table; --' } })).toEqual({
    metric: 'WebhookRefused',
    reason: 'OTHER',
  });
  expect(webhookVerdict(400, {})).toEqual({ metric: 'WebhookRefused', reason: 'OTHER' });
  expect(webhookVerdict(502, { ok: false, error: { code: 'COGNIGY_UNAVAILABLE' } })).toBeUndefined();
  expect(webhookVerdict(503, { ok: false })).toBeUndefined();
});

test('a refused webhook delivery is counted per function and per reason; an accepted one as verified', async () => {
  const refusing = apiHandler(
    'sms-receipt',
    async () => {
      throw new BridgeError('UNAUTHORIZED', 'Missing or invalid credentials', 401);
    },
    { parseJson: false },
  );
  const refused = await emitted(() => refusing(event('{}'), context));
  const service = refused.find((m) => m.name === 'WebhookRefused' && !('reason' in m.dimensions));
  const byReason = refused.find((m) => m.name === 'WebhookRefused' && 'reason' in m.dimensions);
  expect(service?.dimensions).toEqual({ service: expect.any(String) });
  expect(byReason?.dimensions).toEqual({ service: service?.dimensions.service, reason: 'UNAUTHORIZED' });
  expect(refused.filter((m) => m.name === 'WebhookVerified')).toEqual([]);

  // Refused before the core runs (the size bound of the route): counted all the same.
  const tooLarge = await emitted(() => refusing(event('x'.repeat(20_000)), context));
  expect(tooLarge.find((m) => m.dimensions.reason !== undefined)?.dimensions.reason).toBe(
    'PAYLOAD_TOO_LARGE',
  );

  const accepting = apiHandler('sms-receipt', async () => ({ statusCode: 200, body: { ok: true } }), {
    parseJson: false,
  });
  const verified = await emitted(() => accepting(event('{}'), context));
  expect(verified.map((m) => m.name)).toEqual(['WebhookVerified']);
});

test('a flow route (API key) counts no webhook verdicts', async () => {
  const refusing = apiHandler('sms-status', async () => {
    throw new BridgeError('NOT_FOUND', 'No such SMS', 404);
  });
  const metrics = await emitted(() => refusing({ ...event(''), httpMethod: 'GET' }, context));
  expect(metrics.filter((m) => m.name.startsWith('Webhook'))).toEqual([]);
});
