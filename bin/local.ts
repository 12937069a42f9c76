/**
 * `npm start`: the whole bridge locally (see lib/local/stack.ts for what runs and which environment variables
 * swap a simulator for the real 8x8 or Cognigy service).
 *
 *   PORT              gateway port (default 3000; 0 = any free port)
 *   LOCAL_API_KEY     API key the gateway requires in x-api-key (default local-dev-key)
 *   LOCAL_API_KEYS    further API keys, comma-separated: one per tenant, each sees only its own records
 *   LOCAL_THROTTLE_RATE / LOCAL_THROTTLE_BURST   usage-plan throttling per key (default 10000 / 5000)
 *   SMS_SIMULATOR_PORT / CHAT_GATEWAY_SIMULATOR_PORT / COGNIGY_SIMULATOR_PORT   fixed simulator ports
 */
import { startLocalStack, type LocalStack } from '../lib/local/stack';

function portFrom(name: string, fallback?: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`${name} must be a port number between 0 and 65535, got "${raw}"`);
  }
  return port;
}

function positiveFrom(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

function banner(stack: LocalStack): string {
  const { urls } = stack;
  const mode = (name: keyof LocalStack['services'], url?: string) =>
    stack.services[name] === 'simulator' ? `simulator ${url}` : stack.services[name];
  const lines = [
    '',
    `Cognigy ↔ 8x8 bridge — local stack ready in ${stack.startupMs} ms (${Math.round(process.uptime() * 1000)} ms since the process started)`,
    '',
    `  API            ${urls.gateway}`,
    `  Console        ${urls.console}   (open in a browser: the outbox, both sides of each handover, webhooks)`,
    `  API key        ${stack.apiKey}   (header x-api-key)`,
    ...stack.apiKeys
      .slice(1)
      .map((key) => `  Tenant key     ${key}   (LOCAL_API_KEYS; sees only its own records)`),
    `  OpenAPI        ${urls.openapi}`,
    '',
    `  8x8 SMS        ${mode('sms', urls.smsSimulator)}`,
    `  8x8 Chat GW    ${mode('chatGateway', urls.chatGatewaySimulator)}`,
    `  Cognigy        ${mode('cognigy', urls.cognigySimulator)}`,
  ];
  const controls: string[] = [];
  if (urls.smsSimulator) {
    controls.push(`  SMS sim        GET ${urls.smsSimulator}/__control/received   POST .../__control/faults`);
  }
  if (urls.chatGatewaySimulator) {
    controls.push(
      `  Chat GW sim    GET ${urls.chatGatewaySimulator}/__control/conversations   POST .../__control/conversations/{id}/agent/message`,
    );
  }
  if (urls.cognigySimulator) {
    controls.push(`  Cognigy sim    GET ${urls.cognigySimulator}/__control/sessions`);
  }
  if (controls.length > 0) lines.push('', '  Controls', ...controls);
  lines.push(
    '',
    `  AWS stand-ins  DynamoDB ${urls.dynamodb}   SQS ${urls.sqs}   Secrets Manager ${urls.secretsManager}`,
    '',
    '  Try:',
    `    curl -s -X POST ${urls.gateway}/sms \\`,
    `      -H 'x-api-key: ${stack.apiKey}' -H 'content-type: application/json' \\`,
    `      -d '{"destination":"+6591234567","text":"Hello from Cognigy"}'`,
    '',
    'Ctrl+C stops everything.',
    '',
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const rateLimit = positiveFrom('LOCAL_THROTTLE_RATE');
  const burstLimit = positiveFrom('LOCAL_THROTTLE_BURST');
  const stack = await startLocalStack({
    port: portFrom('PORT', 3000),
    apiKey: process.env.LOCAL_API_KEY || 'local-dev-key',
    apiKeys: (process.env.LOCAL_API_KEYS ?? '')
      .split(',')
      .map((key) => key.trim())
      .filter((key) => key !== ''),
    throttle:
      rateLimit || burstLimit
        ? { rateLimit: rateLimit ?? 10_000, burstLimit: burstLimit ?? 5_000 }
        : undefined,
    simulatorPorts: {
      sms: portFrom('SMS_SIMULATOR_PORT'),
      chatGateway: portFrom('CHAT_GATEWAY_SIMULATOR_PORT'),
      cognigy: portFrom('COGNIGY_SIMULATOR_PORT'),
    },
  });
  console.log(banner(stack));

  // Load the functions in the background so the first request is as fast as the next ones.
  const warmStart = performance.now();
  void stack.warmUp().then(() => {
    console.log(`Functions loaded in ${Math.round(performance.now() - warmStart)} ms`);
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      console.log('Forced exit');
      process.exit(1);
    }
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    stack.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('Stopping failed:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    console.error(
      `Port ${process.env.PORT ?? 3000} is in use; set PORT to another port (or 0 for any free one).`,
    );
  } else {
    console.error('The local stack failed to start:', error);
  }
  process.exit(1);
});
