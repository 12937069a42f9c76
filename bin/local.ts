/**
 * `npm start`: the whole bridge locally (see lib/local/stack.ts for what runs and which environment variables
 * swap a simulator for the real 8x8 or Cognigy service). Settings come from the environment: the catalogue's
 * (functions/shared/catalogue.ts SETTINGS, e.g. `HANDOVER_RULES=... npm start`) and local mode's own
 * (lib/local/options.ts LOCAL_OPTIONS), all checked before anything starts:
 *
 *   PORT              gateway port (default 3000; 0 = any free port)
 *   LOCAL_API_KEY     API key the gateway requires in x-api-key (default local-dev-key)
 *   LOCAL_API_KEYS    further API keys, comma-separated: one per tenant, each sees only its own records
 *   LOCAL_THROTTLE_RATE / LOCAL_THROTTLE_BURST   usage-plan throttling per key (default 10000 / 5000)
 *   SMS_SIMULATOR_PORT / CHAT_GATEWAY_SIMULATOR_PORT / COGNIGY_SIMULATOR_PORT   fixed simulator ports
 *   LOCAL_DYNAMODB_PORT / LOCAL_SQS_PORT / LOCAL_SECRETS_MANAGER_PORT            fixed AWS stand-in ports
 *
 * A refused value, half-set credentials or a port in use end the process with exit code 1 and one sentence.
 */
import { ROUTES } from '../functions/shared/catalogue';
import { routeDescription } from '../functions/shared/catalogue-docs';
import { InvalidSettingError } from '../functions/shared/setting-rules';
import { LocalOptionError, PortInUseError, localOptionsFromEnv } from '../lib/local/options';
import { startLocalStack, type LocalStack } from '../lib/local/stack';

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
    // Where 8x8 posts (the simulators already do; real 8x8 needs PUBLIC_BASE_URL in front of these paths).
    ...ROUTES.filter((route) => route.auth === 'self').map(
      (route) => `  Webhook        ${route.method} ${urls.gateway}${route.path}   (${routeDescription(route)})`,
    ),
    '',
    `  8x8 SMS        ${mode('sms', urls.smsSimulator)}`,
    `  8x8 Chat GW    ${mode('chatGateway', urls.chatGatewaySimulator)}`,
    `  Cognigy        ${mode('cognigy', urls.cognigySimulator)}`,
    ...(urls.smsBotEndpoint
      ? [`  SMS bot        ${urls.smsBotEndpoint}   (SMS_BOT_ENDPOINT_URL; text it from the console's handset)`]
      : []),
  ];
  const controls: string[] = [];
  if (urls.smsSimulator) {
    controls.push(`  SMS sim        GET ${urls.smsSimulator}/__control/received   POST .../__control/faults`);
    controls.push(
      `  Handset        POST ${urls.smsSimulator}/__control/handsets/{phone}/messages {"to","text"}   GET .../__control/handsets/{phone}`,
    );
  }
  if (urls.chatGatewaySimulator) {
    controls.push(
      `  Chat GW sim    GET ${urls.chatGatewaySimulator}/__control/conversations   POST .../__control/conversations/{id}/agent/message`,
    );
  }
  if (urls.cognigySimulator) {
    controls.push(
      `  Cognigy sim    GET ${urls.cognigySimulator}/__control/sessions   GET .../__control/rest-calls   POST .../__control/rest-scripts/{URLToken}`,
    );
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

/** A repeated signal within this time is the same request (a terminal's Ctrl+C reaches npm and node, and npm relays it). */
const REPEAT_WINDOW_MS = 5_000;

let running: LocalStack | undefined;
let stopReason: string | undefined;
let stopRequestedAt = 0;

function stopStack(stack: LocalStack): void {
  stack.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('Stopping failed:', error);
      process.exit(1);
    },
  );
}

/** Stops everything the stack started (servers, worker threads, timers), then exits 0; a second request forces it. */
function shutdown(reason: string): void {
  if (stopReason !== undefined) {
    if (Date.now() - stopRequestedAt < REPEAT_WINDOW_MS) return;
    console.log('Forced exit');
    process.exit(1);
  }
  stopReason = reason;
  stopRequestedAt = Date.now();
  console.log(`\n${reason}: stopping…`);
  // Still starting: main() stops it as soon as it is up.
  if (running) stopStack(running);
}

process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGHUP', () => shutdown('SIGHUP'));
// npm relays SIGINT and SIGTERM, but if npm itself is killed this process is re-parented: stop then too, so no
// orphaned stack keeps the ports.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) shutdown('The parent process exited');
}, 500).unref();

// The functions run on nodejs22.x in Lambda; the SDK's warning about this machine's older Node is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  const options = localOptionsFromEnv(process.env);
  const rateLimit = options.LOCAL_THROTTLE_RATE;
  const burstLimit = options.LOCAL_THROTTLE_BURST;
  const stack = await startLocalStack({
    port: options.PORT ?? 3000,
    apiKey: options.LOCAL_API_KEY ?? 'local-dev-key',
    apiKeys: (options.LOCAL_API_KEYS ?? '')
      .split(',')
      .map((key) => key.trim())
      .filter((key) => key !== ''),
    throttle:
      rateLimit || burstLimit
        ? { rateLimit: rateLimit ?? 10_000, burstLimit: burstLimit ?? 5_000 }
        : undefined,
    simulatorPorts: {
      sms: options.SMS_SIMULATOR_PORT,
      chatGateway: options.CHAT_GATEWAY_SIMULATOR_PORT,
      cognigy: options.COGNIGY_SIMULATOR_PORT,
    },
    standInPorts: {
      dynamodb: options.LOCAL_DYNAMODB_PORT,
      sqs: options.LOCAL_SQS_PORT,
      secretsManager: options.LOCAL_SECRETS_MANAGER_PORT,
    },
  });
  running = stack;
  if (stopReason) return stopStack(stack);
  console.log(banner(stack));

  // Load the functions in the background so the first request is as fast as the next ones.
  const warmStart = performance.now();
  void stack.warmUp().then(() => {
    console.log(`Functions loaded in ${Math.round(performance.now() - warmStart)} ms`);
  });
}

main().catch((error: unknown) => {
  // What a person can fix gets its one sentence; anything else its full report.
  if (
    error instanceof LocalOptionError ||
    error instanceof InvalidSettingError ||
    error instanceof PortInUseError
  ) {
    console.error(error.message);
  } else {
    console.error('The local stack failed to start:', error);
  }
  process.exit(1);
});
