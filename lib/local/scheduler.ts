/**
 * EventBridge schedules stand-in: every catalogue function with a `schedule` (functions/shared/catalogue.ts) runs
 * on a timer with the same period, through the same Lambda runtime stand-in as the gateway and the pollers. Like
 * EventBridge, a tick does not wait for the previous run; tests shorten the period or call runNow.
 */
import { randomUUID } from 'node:crypto';
import { FUNCTIONS, type FunctionName } from '../../functions/shared/catalogue';
import { functionTimeoutMs, invokeWithTimeout, type LambdaHandler } from './lambda';

export interface ScheduleOptions {
  loadHandler: (name: FunctionName) => Promise<LambdaHandler>;
  /** Period per function in ms (default: the catalogue's rateMinutes); 0 turns the timer off (runNow still works). */
  intervalMs?: Partial<Record<FunctionName, number>>;
  onError?: (message: string, error: unknown) => void;
}

export interface Schedules {
  /** The functions that run on a schedule. */
  readonly functions: FunctionName[];
  /** Runs the function once now (as a tick would) and resolves with its result. */
  runNow(name: FunctionName): Promise<unknown>;
  stop(): Promise<void>;
}

/** The event EventBridge gives a scheduled target. */
export function scheduledEvent(name: FunctionName): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [`arn:aws:events:us-east-1:000000000000:rule/${name}`],
    detail: {},
  };
}

export function startSchedules(options: ScheduleOptions): Schedules {
  const functions = (Object.keys(FUNCTIONS) as FunctionName[]).filter((fn) => FUNCTIONS[fn].schedule);
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;

  const run = (name: FunctionName): Promise<unknown> => {
    const invocation = options
      .loadHandler(name)
      .then((handler) => invokeWithTimeout(name, handler, scheduledEvent(name), functionTimeoutMs(name)));
    const tracked = invocation.finally(() => inFlight.delete(tracked));
    tracked.catch(() => undefined);
    inFlight.add(tracked);
    return invocation;
  };

  const timers = functions.flatMap((name) => {
    const period = options.intervalMs?.[name] ?? (FUNCTIONS[name].schedule?.rateMinutes ?? 1) * 60_000;
    if (period <= 0) return [];
    const timer = setInterval(() => {
      if (stopped) return;
      run(name).catch((error: unknown) => options.onError?.(`Scheduled ${name} failed`, error));
    }, period);
    timer.unref();
    return [timer];
  });

  return {
    functions,
    runNow: (name) => {
      if (!FUNCTIONS[name].schedule) throw new Error(`${name} has no schedule in the catalogue`);
      return run(name);
    },
    stop: async () => {
      stopped = true;
      for (const timer of timers) clearInterval(timer);
      await Promise.allSettled([...inFlight]);
    },
  };
}
