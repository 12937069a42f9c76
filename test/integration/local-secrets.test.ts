/** The Secrets Manager stand-in through the real SecretsManagerClient (JSON 1.1 over HTTP). */
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { localClientConfig } from '../../lib/local/aws';
import { SecretsManagerStandIn } from '../../lib/local/secrets-manager';

let standIn: SecretsManagerStandIn;
let client: SecretsManagerClient;

beforeAll(async () => {
  standIn = new SecretsManagerStandIn();
  client = new SecretsManagerClient(localClientConfig(await standIn.start()));
});

afterAll(async () => {
  client.destroy();
  await standIn.stop();
});

test('GetSecretValue answers what the service answers for a secret set in-process', async () => {
  const before = Date.now();
  standIn.setSecret('app/smsWebhookAuth', { authorization: 'Bearer abc' });
  const value = await client.send(new GetSecretValueCommand({ SecretId: 'app/smsWebhookAuth' }));
  expect(value.Name).toBe('app/smsWebhookAuth');
  expect(value.ARN).toMatch(
    /^arn:aws:secretsmanager:us-east-1:000000000000:secret:app\/smsWebhookAuth-[0-9a-f]{6}$/,
  );
  expect(JSON.parse(value.SecretString ?? '')).toEqual({ authorization: 'Bearer abc' });
  expect(value.VersionStages).toEqual(['AWSCURRENT']);
  expect(value.VersionId).toEqual(expect.any(String));
  expect(value.CreatedDate).toBeInstanceOf(Date);
  expect(value.CreatedDate!.getTime()).toBeGreaterThanOrEqual(before - 1000);

  const byArn = await client.send(new GetSecretValueCommand({ SecretId: value.ARN }));
  expect(byArn.SecretString).toBe(value.SecretString);
});

test('an unknown secret is ResourceNotFoundException', async () => {
  await expect(client.send(new GetSecretValueCommand({ SecretId: 'missing' }))).rejects.toBeInstanceOf(
    ResourceNotFoundException,
  );
  await expect(
    client.send(new PutSecretValueCommand({ SecretId: 'missing', SecretString: 'x' })),
  ).rejects.toBeInstanceOf(ResourceNotFoundException);
});

test('PutSecretValue rotates: the new value is AWSCURRENT, the old one AWSPREVIOUS', async () => {
  await client.send(new CreateSecretCommand({ Name: 'rotating', SecretString: 'v1' }));
  const put = await client.send(new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'v2' }));
  expect(put.VersionStages).toEqual(['AWSCURRENT']);

  const current = await client.send(new GetSecretValueCommand({ SecretId: 'rotating' }));
  const previous = await client.send(
    new GetSecretValueCommand({ SecretId: 'rotating', VersionStage: 'AWSPREVIOUS' }),
  );
  expect([current.SecretString, previous.SecretString]).toEqual(['v2', 'v1']);
  expect(current.VersionId).toBe(put.VersionId);
  expect(standIn.getSecretString('rotating')).toBe('v2');

  const described = await client.send(new DescribeSecretCommand({ SecretId: 'rotating' }));
  expect(Object.values(described.VersionIdsToStages ?? {}).sort()).toEqual([['AWSCURRENT'], ['AWSPREVIOUS']]);
});

test('a ClientRequestToken makes a put idempotent and refuses a different value', async () => {
  await client.send(new CreateSecretCommand({ Name: 'tokened', SecretString: 'v1' }));
  const token = '11111111-2222-3333-4444-555555555555';
  const first = await client.send(
    new PutSecretValueCommand({ SecretId: 'tokened', SecretString: 'v2', ClientRequestToken: token }),
  );
  const again = await client.send(
    new PutSecretValueCommand({ SecretId: 'tokened', SecretString: 'v2', ClientRequestToken: token }),
  );
  expect(again.VersionId).toBe(first.VersionId);
  await expect(
    client.send(
      new PutSecretValueCommand({ SecretId: 'tokened', SecretString: 'v3', ClientRequestToken: token }),
    ),
  ).rejects.toBeInstanceOf(ResourceExistsException);
  expect(standIn.getSecretString('tokened')).toBe('v2');
});

test('CreateSecret refuses an existing name', async () => {
  await client.send(new CreateSecretCommand({ Name: 'once', SecretString: 'a' }));
  await expect(
    client.send(new CreateSecretCommand({ Name: 'once', SecretString: 'b' })),
  ).rejects.toBeInstanceOf(ResourceExistsException);
});

test('an unsupported operation is refused with UnknownOperationException, not a crash', async () => {
  const response = await fetch(standIn.url, {
    method: 'POST',
    headers: { 'x-amz-target': 'secretsmanager.DeleteSecret', 'content-type': 'application/x-amz-json-1.1' },
    body: JSON.stringify({ SecretId: 'once' }),
  });
  expect(response.status).toBe(400);
  expect(await response.json()).toEqual({
    __type: 'UnknownOperationException',
    message: 'The operation DeleteSecret is not supported',
  });
});
