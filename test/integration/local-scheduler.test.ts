/**
 * The EventBridge schedule stand-in (lib/local/scheduler.ts): catalogue functions with a `schedule` run on a timer
 * with a scheduled event, and on demand with runNow. Inline handlers stand in for the function.
 */
import type { FunctionName } from '../../functions/shared/catalogue';
import type { LambdaHandler } from '../../lib/local/lambda';
import { startSchedules } from '../../lib/local/scheduler';
import { waitFor } from '../helpers/wait';

function recordingLoader() {
  const calls: { name: FunctionName; event: Record<string, unknown>; functionName: string }[] = [];
  const loadHandler =
    async (name: FunctionName): Promise<LambdaHandler> =>
    async (event, context) => {
      calls.push({ name, event: event as Record<string, unknown>, functionName: context.functionName });
      return { swept: calls.length };
    };
  return { calls, loadHandler };
}

test('only scheduled functions get a timer; each tick invokes the function with a scheduled event', async () => {
  const { calls, loadHandler } = recordingLoader();
  const schedules = startSchedules({ loadHandler, intervalMs: { 'sms-sweeper': 20 } });
  try {
    expect(schedules.functions).toEqual(['sms-sweeper']);
    await waitFor('two ticks', () => calls.length >= 2);
    expect(calls[0]).toMatchObject({
      name: 'sms-sweeper',
      functionName: 'sms-sweeper',
      event: { source: 'aws.events', 'detail-type': 'Scheduled Event' },
    });
  } finally {
    await schedules.stop();
  }
});

test('runNow runs a scheduled function once and resolves with its result; a period of 0 means no timer', async () => {
  const { calls, loadHandler } = recordingLoader();
  const schedules = startSchedules({ loadHandler, intervalMs: { 'sms-sweeper': 0 } });
  try {
    expect(await schedules.runNow('sms-sweeper')).toEqual({ swept: 1 });
    expect(() => schedules.runNow('sms-accept')).toThrow(/no schedule/);
    expect(calls).toHaveLength(1);
  } finally {
    await schedules.stop();
  }
});
