/**
 * `npm start` as a person runs it, stopped as a person or a supervisor stops it: Ctrl+C (SIGINT to the terminal's
 * whole process group) and SIGTERM (to npm alone, as a process manager sends it). Either way every process npm
 * started is gone afterwards (read from /proc) and every port the stack listened on (the gateway, the simulators
 * and the AWS stand-ins, each chosen through its environment variable) is free again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { waitFor } from '../helpers/wait';

const root = path.resolve(__dirname, '../..');

const PORT_VARIABLES = [
  'PORT',
  'SMS_SIMULATOR_PORT',
  'CHAT_GATEWAY_SIMULATOR_PORT',
  'COGNIGY_SIMULATOR_PORT',
  'LOCAL_DYNAMODB_PORT',
  'LOCAL_SQS_PORT',
  'LOCAL_SECRETS_MANAGER_PORT',
] as const;

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

/** True when nothing listens on the port (we can bind it ourselves). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** pid → [parent pid, state] of every live process, from /proc/<pid>/stat. */
function processTable(): Map<number, { ppid: number; state: string }> {
  const table = new Map<number, { ppid: number; state: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(entry), { ppid: Number(ppid), state: state! });
    } catch {
      // Exited while we read.
    }
  }
  return table;
}

function descendants(pid: number): number[] {
  const table = processTable();
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const [child, { ppid }] of table) {
      if (ppid === parent) {
        found.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return found;
}

/** Gone, or a zombie waiting for a reaper (it holds no ports and runs no code). */
function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.exitCode !== null || child.signalCode !== null
      ? resolve({ code: child.exitCode, signal: child.signalCode })
      : child.once('exit', (code, signal) => resolve({ code, signal })),
  );

interface Started {
  npm: ChildProcess;
  ports: Record<(typeof PORT_VARIABLES)[number], number>;
  output: () => string;
}

/** Process groups this file started, killed after each test whatever happened (a failed test leaves nothing). */
const groups: number[] = [];
afterEach(() => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone: the test stopped it.
    }
  }
});

async function startNpm(): Promise<Started> {
  const ports = {} as Started['ports'];
  for (const name of PORT_VARIABLES) ports[name] = await freePort();
  // Its own process group, like a terminal's foreground job: Ctrl+C signals the whole group.
  const npm = spawn('npm', ['start'], {
    cwd: root,
    env: {
      ...process.env,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      LOG_LEVEL: 'ERROR',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  groups.push(npm.pid!);
  let text = '';
  npm.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  npm.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  await waitFor('the ready banner of npm start', () => /Ctrl\+C stops everything/.test(text), {
    timeoutMs: 150_000,
    intervalMs: 50,
  }).catch((error: Error) => {
    npm.kill('SIGKILL');
    throw new Error(`${error.message}; output:\n${text}`);
  });
  return { npm, ports, output: () => text };
}

async function expectEverythingStopped(started: Started, stop: () => void) {
  const children = descendants(started.npm.pid!);
  // npm runs the stack's node process (its script execs it); nothing else may outlive the stop either.
  expect(children.length).toBeGreaterThan(0);
  for (const port of Object.values(started.ports)) expect(await portFree(port)).toBe(false);

  stop();
  const { code } = await exited(started.npm);
  expect({ code, output: code === 0 ? '' : started.output() }).toEqual({ code: 0, output: '' });
  await waitFor('every process npm start started to exit', () => children.every((pid) => !alive(pid)), {
    timeoutMs: 30_000,
  });
  const busy: string[] = [];
  for (const [name, port] of Object.entries(started.ports)) {
    if (!(await portFree(port))) busy.push(`${name}=${port}`);
  }
  expect(busy).toEqual([]);
  expect(started.output()).not.toMatch(/NodeVersionSupportWarning/);
}

test('SIGTERM to npm stops every child process and frees every port', async () => {
  const started = await startNpm();
  await expectEverythingStopped(started, () => started.npm.kill('SIGTERM'));
  expect(started.output()).toMatch(/SIGTERM: stopping/);
}, 300_000);

test('Ctrl+C (SIGINT to the process group) stops every child process and frees every port', async () => {
  const started = await startNpm();
  await expectEverythingStopped(started, () => process.kill(-started.npm.pid!, 'SIGINT'));
  expect(started.output()).toMatch(/SIGINT: stopping/);
  // npm relays the signal the node process already got from the terminal: one stop, not a forced exit.
  expect(started.output()).not.toMatch(/Forced exit/);
}, 300_000);
