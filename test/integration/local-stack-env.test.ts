/**
 * The local stack's lifecycle: real services chosen through the environment instead of simulators, and a stop
 * (or a failed start) that leaves the process as it found it.
 */
import dns from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SECRETS } from '../../functions/shared/catalogue';
import { LocalStackAlreadyRunningError, startLocalStack, type LocalStack } from '../../lib/local/stack';

const realServices = {
  EIGHTBYEIGHT_SMS_API_KEY: 'sms-key',
  EIGHTBYEIGHT_SMS_SUBACCOUNT_ID: 'acme-1',
  CHAT_GATEWAY_API_KEY: 'chat-key',
  CHAT_GATEWAY_TENANT: 'acme',
  CHAT_GATEWAY_BASE_URL: 'https://api.8x8.example',
  COGNIGY_ENDPOINT_BASE_URL: 'https://endpoint.cognigy.example',
  SMS_WEBHOOK_AUTHORIZATION: 'Bearer from-8x8-console',
  PUBLIC_BASE_URL: 'https://bridge-tunnel.example',
};

test('credentials in the environment replace the simulators, and the process is left as it was', async () => {
  const lookupBefore = dns.lookup;
  const envBefore = { ...process.env };

  const stack = await startLocalStack({ port: 0, quiet: true, env: realServices });
  try {
    expect(stack.services).toEqual({ sms: 'real', chatGateway: 'real', cognigy: 'real' });
    expect([stack.sms, stack.chatGateway, stack.cognigy]).toEqual([undefined, undefined, undefined]);
    const secret = (name: keyof typeof SECRETS) =>
      JSON.parse(stack.secretsManager.getSecretString(stack.secretNames[name]) ?? 'null') as unknown;
    expect(secret('smsCredentials')).toEqual({
      apiKey: 'sms-key',
      subAccountId: 'acme-1',
      baseUrl: 'https://sms.8x8.com',
    });
    expect(secret('chatGatewayCredentials')).toEqual({
      apiKey: 'chat-key',
      tenant: 'acme',
      baseUrl: 'https://api.8x8.example',
      jwkUrl: 'https://api.8x8.example/chat-gateway/v1/jwk/{kid}/public',
    });
    expect(secret('cognigy')).toEqual({ endpointBaseUrl: 'https://endpoint.cognigy.example' });
    // With a real Cognigy there is no local echo bot: the SMS bot is whatever SMS_BOT_ENDPOINT_URL names (here none).
    expect(stack.urls.smsBotEndpoint).toBeUndefined();
    expect(stack.functionEnvironment('sms-inbound')).not.toHaveProperty('SMS_BOT_ENDPOINT_URL');
    expect(secret('smsWebhookAuth')).toEqual({
      authorization: 'Bearer from-8x8-console',
      callbackTokenKey: expect.any(String),
    });
    const deliver = stack.functionEnvironment('sms-deliver');
    expect(deliver.PUBLIC_BASE_URL).toBe('https://bridge-tunnel.example');
    expect(deliver[SECRETS.smsCredentials.nameEnv]).toBe(stack.secretNames.smsCredentials);
    // The functions get their environments in their own sandboxes; this process's stays as it was.
    expect(process.env).toEqual(envBefore);
    expect(dns.lookup).not.toBe(lookupBefore);
  } finally {
    await stack.stop();
  }

  expect(process.env).toEqual(envBefore);
  expect(dns.lookup).toBe(lookupBefore);
  // Stopping twice is harmless.
  await stack.stop();
});

test('a failed start releases what it started, and the next start works', async () => {
  const envBefore = { ...process.env };
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const takenPort = (blocker.address() as AddressInfo).port;
  try {
    await expect(startLocalStack({ port: takenPort, quiet: true, env: {} })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
    expect(process.env).toEqual(envBefore);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }

  // The SMS bot the user names wins over the Cognigy simulator's echo bot.
  const bot = 'https://endpoint.cognigy.example/users-bot-token';
  const stack = await startLocalStack({ port: 0, quiet: true, env: { SMS_BOT_ENDPOINT_URL: bot } });
  try {
    expect(stack.urls.gateway).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.urls.smsBotEndpoint).toBe(bot);
    expect(stack.functionEnvironment('sms-inbound').SMS_BOT_ENDPOINT_URL).toBe(bot);
  } finally {
    await stack.stop();
  }
});

test('two starts at the same time: one stack runs, the other is refused', async () => {
  const results = await Promise.allSettled([
    startLocalStack({ port: 0, quiet: true, env: {} }),
    startLocalStack({ port: 0, quiet: true, env: {} }),
  ]);
  const started = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  try {
    expect(started).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]?.reason).toBeInstanceOf(LocalStackAlreadyRunningError);
  } finally {
    await Promise.all(started.map((r) => (r as PromiseFulfilledResult<LocalStack>).value.stop()));
  }
});
