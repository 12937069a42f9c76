/**
 * The README's first command as a newcomer runs it: `npm start` (bin/local.ts) in its own process, on the port and
 * API key given by PORT and LOCAL_API_KEY, then the README's handover walk-through (bin/handover-demo.ts) against
 * it, and Ctrl+C (SIGINT) stopping everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const START_SCRIPT = 'exec node --import tsx bin/local.ts';
const API_KEY = 'npm-start-test-key';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function collect(child: ChildProcess): { text: () => string } {
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { text: () => text };
}

async function until(what: string, probe: () => boolean, output: () => string, limitMs = 60_000) {
  const giveUpAt = Date.now() + limitMs;
  while (!probe()) {
    if (Date.now() > giveUpAt) throw new Error(`${what} did not happen; output so far:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );

let stack: ChildProcess | undefined;
let output: { text: () => string };
let ports: { gateway: number; chat: number; cognigy: number };

/** One `export` serves both terminals of the README walk-through: the stack and the demo read the same names. */
const sharedEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  PORT: String(ports.gateway),
  LOCAL_API_KEY: API_KEY,
  CHAT_GATEWAY_SIMULATOR_PORT: String(ports.chat),
  COGNIGY_SIMULATOR_PORT: String(ports.cognigy),
});

beforeAll(async () => {
  ports = { gateway: await freePort(), chat: await freePort(), cognigy: await freePort() };
  // The command package.json's `start` runs (node itself loads tsx, so Ctrl+C reaches the stack's own handler;
  // the tsx CLI wrapper would give the child only 30 ms to acknowledge a relayed signal, and exit 130 under load).
  stack = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
    cwd: root,
    env: { ...sharedEnv(), LOG_LEVEL: 'ERROR' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  output = collect(stack);
  await until('the ready banner', () => /Ctrl\+C stops everything/.test(output.text()), output.text);
}, 90_000);

afterAll(async () => {
  if (stack && stack.exitCode === null) {
    stack.kill('SIGKILL');
    await exited(stack);
  }
});

test('this is the command `npm start` runs', () => {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  expect(manifest.scripts.start).toBe(START_SCRIPT);
});

test('the banner shows the gateway on PORT and the key from LOCAL_API_KEY', () => {
  expect(output.text()).toContain(`http://127.0.0.1:${ports.gateway}`);
  expect(output.text()).toContain(API_KEY);
});

test('the gateway accepts that key and only that key', async () => {
  const send = (key: string) =>
    fetch(`http://127.0.0.1:${ports.gateway}/sms`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ destination: '+6591234567', text: 'Hello from the npm start test' }),
    });
  const accepted = await send(API_KEY);
  expect(accepted.status).toBe(202);
  expect(await accepted.json()).toMatchObject({ ok: true, status: { code: 'QUEUED' } });
  const refused = await send('local-dev-key');
  expect(refused.status).toBe(403);
});

test("the README's handover walk-through runs to completed against it", async () => {
  const demo = spawn(tsx, ['bin/handover-demo.ts'], {
    cwd: root,
    env: sharedEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const demoOutput = collect(demo);
  const code = await exited(demo);
  expect({ code, output: code === 0 ? '' : demoOutput.text() }).toEqual({ code: 0, output: '' });
  expect(demoOutput.text()).toMatch(/completed/);
}, 60_000);

test('Ctrl+C (SIGINT) stops the whole stack and the process exits 0', async () => {
  stack!.kill('SIGINT');
  expect(await exited(stack!)).toBe(0);
}, 30_000);
