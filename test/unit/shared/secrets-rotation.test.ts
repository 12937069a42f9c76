/**
 * functions/shared/secrets.ts during a rotation, mocked at the AWS SDK boundary: AWSPREVIOUS is read with its own
 * cache (Powertools keys its cache by name and transform only, so sharing it would answer AWSPREVIOUS with the
 * cached AWSCURRENT), a secret without AWSPREVIOUS costs one call per cache period, and a forced read bypasses the
 * cache.
 */
import '../../helpers/env';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { loadPreviousSecret, loadSecret } from '../../../functions/shared/secrets';

const sm = mockClient(SecretsManagerClient);
const OLD = { authorization: 'Bearer old-value' };
const NEW = { authorization: 'Bearer new-value' };

let secretId = '';
let count = 0;

// The caches live as long as the module: each test uses a secret of its own name.
beforeEach(() => {
  sm.reset();
  secretId = `receipts-${++count}`;
  process.env.SMS_WEBHOOK_AUTH_SECRET = secretId;
  process.env.SECRETS_MAX_AGE_SECONDS = '300';
});

const calls = (stage?: string) =>
  sm.commandCalls(GetSecretValueCommand).filter((c) => c.args[0].input.VersionStage === stage).length;

test('AWSCURRENT and AWSPREVIOUS are read by stage and cached apart', async () => {
  sm.on(GetSecretValueCommand, { SecretId: secretId }).resolves({ SecretString: JSON.stringify(NEW) });
  sm.on(GetSecretValueCommand, { SecretId: secretId, VersionStage: 'AWSPREVIOUS' }).resolves({
    SecretString: JSON.stringify(OLD),
  });
  expect(await loadSecret('smsWebhookAuth')).toEqual(NEW);
  expect(await loadPreviousSecret('smsWebhookAuth')).toEqual(OLD);
  expect(await loadSecret('smsWebhookAuth')).toEqual(NEW);
  expect(await loadPreviousSecret('smsWebhookAuth')).toEqual(OLD);
  expect({ current: calls(undefined), previous: calls('AWSPREVIOUS') }).toEqual({ current: 1, previous: 1 });
});

test('without an AWSPREVIOUS version the answer is undefined and the miss is remembered', async () => {
  sm.on(GetSecretValueCommand, { SecretId: secretId, VersionStage: 'AWSPREVIOUS' }).rejects(
    new ResourceNotFoundException({ message: 'no such version', $metadata: {} }),
  );
  expect(await loadPreviousSecret('smsWebhookAuth')).toBeUndefined();
  expect(await loadPreviousSecret('smsWebhookAuth')).toBeUndefined();
  expect(calls('AWSPREVIOUS')).toBe(1);
});

test('forceFetch reads AWSCURRENT past the cache (a rotation seen before the cache expires)', async () => {
  sm.on(GetSecretValueCommand, { SecretId: secretId })
    .resolvesOnce({ SecretString: JSON.stringify(OLD) })
    .resolves({ SecretString: JSON.stringify(NEW) });
  expect(await loadSecret('smsWebhookAuth')).toEqual(OLD);
  expect(await loadSecret('smsWebhookAuth')).toEqual(OLD);
  expect(await loadSecret('smsWebhookAuth', { forceFetch: true })).toEqual(NEW);
  expect(await loadSecret('smsWebhookAuth')).toEqual(NEW);
  expect(calls(undefined)).toBe(2);
});

test('reads asked for at the same time share one GetSecretValue call; a forced read makes its own', async () => {
  sm.on(GetSecretValueCommand, { SecretId: secretId }).resolves({ SecretString: JSON.stringify(NEW) });
  // Both start before either is answered (nothing is cached yet), as a cold instance's early read and its first use.
  expect(await Promise.all([loadSecret('smsWebhookAuth'), loadSecret('smsWebhookAuth')])).toEqual([NEW, NEW]);
  expect(calls(undefined)).toBe(1);
  sm.on(GetSecretValueCommand, { SecretId: secretId }).resolves({ SecretString: JSON.stringify(OLD) });
  expect(await loadSecret('smsWebhookAuth', { forceFetch: true })).toEqual(OLD);
  expect(calls(undefined)).toBe(2);
});
