/**
 * Issue 10 gap 5 (secret rotation refuses receipts), on the real local stack: the receipt secret is rotated in the
 * Secrets Manager stand-in (PutSecretValue: AWSCURRENT → AWSPREVIOUS, as the service does) while the receipt
 * function is warm with the old value cached. 8x8 may still send the old Authorization (its webhook is updated
 * after the secret) or already the new one; both are accepted, anything else is refused.
 */
import { randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { localClientConfig } from '../../lib/local/aws';
import type { LocalStack } from '../../lib/local/stack';
import { startTestStack } from '../helpers/local';

let stack: LocalStack;
let secrets: SecretsManagerClient;

beforeAll(async () => {
  stack = await startTestStack({ smsWebhookAuthorization: `Bearer before-${randomUUID()}` });
  // The operator's rotation: the real SDK against the stand-in, as `aws secretsmanager put-secret-value` would.
  secrets = new SecretsManagerClient(localClientConfig(stack.secretsManager.url));
}, 60_000);

afterAll(async () => {
  secrets?.destroy();
  await stack?.stop();
});

/** An 8x8 webhook event the receipt route acknowledges once authenticated (200), or refuses (401). */
async function receipt(authorization: string): Promise<string> {
  const response = await fetch(`${stack.urls.gateway}/webhooks/8x8/sms`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    // An event type the bridge does not handle: acknowledged once authenticated, whatever its payload.
    body: JSON.stringify({ namespace: 'SMS', eventType: 'survey_response_received', payload: {} }),
  });
  const body = (await response.json()) as { ok: boolean; error?: { code: string } };
  return `${response.status}${body.error ? ` ${body.error.code}` : ''}`;
}

test('after a rotation the old and the new Authorization are accepted, any other value is refused', async () => {
  const name = stack.secretNames.smsWebhookAuth;
  const before = JSON.parse(stack.secretsManager.getSecretString(name)!) as { authorization: string };
  // Warm: the function now caches the old value as AWSCURRENT (SECRETS_MAX_AGE_SECONDS, 300 s by default).
  expect(await receipt(before.authorization)).toBe('200');

  const after = { ...before, authorization: `Bearer after-${randomUUID()}` };
  await secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: JSON.stringify(after) }));
  const { VersionIdsToStages = {} } = await secrets.send(new DescribeSecretCommand({ SecretId: name }));
  expect(Object.values(VersionIdsToStages)).toEqual([['AWSPREVIOUS'], ['AWSCURRENT']]);

  expect({
    // 8x8 already sends the new value while the cache still holds the old one: read again past the cache.
    fresh: await receipt(after.authorization),
    // 8x8 still sends the old value (webhook not updated yet): AWSPREVIOUS.
    previous: await receipt(before.authorization),
    neither: await receipt(`Bearer forged-${randomUUID()}`),
    empty: await receipt(''),
  }).toEqual({ fresh: '200', previous: '200', neither: '401 UNAUTHORIZED', empty: '401 UNAUTHORIZED' });
});
