/**
 * `npm start` (bin/local.ts, in its own process) refuses bad settings before anything starts: exit code 1 and one
 * sentence naming the variable, its value and what is allowed — no stack trace, nothing left running.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { LocalOptionError } from '../../lib/local/options';
import { startLocalStack } from '../../lib/local/stack';

const root = path.resolve(__dirname, '../..');

/** Runs bin/local.ts as package.json's start script does, with only these variables beside PATH and HOME. */
function npmStart(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PORT: '0',
        LOG_LEVEL: 'ERROR',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test.each([
  [
    { UPSTREAM_TIMEOUT_MS: 'abc' },
    'Setting UPSTREAM_TIMEOUT_MS is "abc", but it must be a whole number from 1 to 60000 milliseconds.',
  ],
  [
    { HANDOVER_RULES: 'nope' },
    'Setting HANDOVER_RULES is "nope", but it must be a JSON object of relay rules (README "Relay rules") (not JSON).',
  ],
  [
    { HANDOVER_RULES: '{"endOn":["agentLeft"],"typo":true}' },
    'Setting HANDOVER_RULES is "{\\"endOn\\":[\\"agentLeft\\"],\\"typo\\":true}", but it must be a JSON object of relay rules (README "Relay rules") ((root): Unrecognized key: "typo").',
  ],
  [
    { SMS_RECEIPT_MODE: 'perRequest' },
    'Setting SMS_RECEIPT_MODE is "perRequest", but it must be one of account or perMessage.',
  ],
  [{ PORT: 'http' }, 'PORT is "http", but it must be a whole number from 0 to 65535 (0 picks a free port).'],
  [
    { COGNIGY_SIMULATOR_PORT: '70000' },
    'COGNIGY_SIMULATOR_PORT is "70000", but it must be a whole number from 0 to 65535 (0 picks a free port).',
  ],
  [
    { LOCAL_THROTTLE_RATE: '-5' },
    'LOCAL_THROTTLE_RATE is "-5", but it must be a number more than 0 requests per second.',
  ],
  [
    { EIGHTBYEIGHT_SMS_API_KEY: 'a-real-looking-key' },
    'EIGHTBYEIGHT_SMS_API_KEY is set but EIGHTBYEIGHT_SMS_SUBACCOUNT_ID is not: set EIGHTBYEIGHT_SMS_API_KEY and EIGHTBYEIGHT_SMS_SUBACCOUNT_ID to send SMS through the real 8x8 API, or none of them to use the simulator.',
  ],
  [
    { EIGHTBYEIGHT_SMS_SUBACCOUNT_ID: 'acme_sub', EIGHTBYEIGHT_SMS_BASE_URL: 'https://sms.8x8.uk' },
    'EIGHTBYEIGHT_SMS_SUBACCOUNT_ID and EIGHTBYEIGHT_SMS_BASE_URL are set but EIGHTBYEIGHT_SMS_API_KEY is not: set EIGHTBYEIGHT_SMS_API_KEY and EIGHTBYEIGHT_SMS_SUBACCOUNT_ID to send SMS through the real 8x8 API, or none of them to use the simulator.',
  ],
  [
    { CHAT_GATEWAY_TENANT: 'acme' },
    'CHAT_GATEWAY_TENANT is set but CHAT_GATEWAY_API_KEY is not: set CHAT_GATEWAY_API_KEY to use the real 8x8 Chat Gateway, or none of them to use the simulator.',
  ],
])(
  'refuses %j with one sentence and exit code 1',
  async (env, sentence) => {
    const run = await npmStart(env);
    expect({ code: run.code, stderr: run.stderr.trim() }).toEqual({ code: 1, stderr: sentence });
    expect(run.stdout).not.toMatch(/\bat \S+ \(/);
    // The refused credential itself is never echoed.
    expect(run.stderr).not.toContain('a-real-looking-key');
  },
  120_000,
);

describe('a port in use', () => {
  let blocker: Server;
  let port: number;
  beforeAll(async () => {
    blocker = createServer();
    port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
  });
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  test.each(['PORT', 'LOCAL_SQS_PORT', 'SMS_SIMULATOR_PORT'])(
    'is named with the variable that chose it (%s)',
    async (variable) => {
      const run = await npmStart({ [variable]: String(port) });
      expect({ code: run.code, stderr: run.stderr.trim() }).toEqual({
        code: 1,
        stderr: `Port ${port} (${variable}) is already in use: stop what listens there, or set ${variable} to another port (0 picks a free one).`,
      });
    },
    120_000,
  );
});

test('startLocalStack refuses the same before it starts anything, and a corrected start then works', async () => {
  await expect(
    startLocalStack({ quiet: true, env: {}, settings: { SMS_SWEEP_BATCH_SIZE: '5000' } }),
  ).rejects.toThrow('Setting SMS_SWEEP_BATCH_SIZE is "5000", but it must be a whole number from 1 to 1000.');
  await expect(
    startLocalStack({ quiet: true, env: { CHAT_GATEWAY_BASE_URL: 'https://api.8x8.com' } }),
  ).rejects.toThrow(LocalOptionError);
  const stack = await startLocalStack({ quiet: true, env: {}, settings: { SMS_SWEEP_BATCH_SIZE: '500' } });
  await stack.stop();
}, 120_000);
