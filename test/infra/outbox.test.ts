/**
 * The deployed outbox of POST /sms (functions/sms/sweeper.ts): the sparse byOutbox index, the sweeper's schedule,
 * grants and alarm, and the queue URL outputs the redrive script takes.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { FUNCTIONS, QUEUES, type QueueName } from '../../functions/shared/catalogue';
import type { BridgeStack } from '../../lib/stack';
import { functionIds, refId, resourcesOfType, SYNTH_TIMEOUT_MS, synthBridge } from './support';

let stack: BridgeStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = synthBridge({ settings: { SMS_SWEEP_ALARM_THRESHOLD: '3' } }));
}, SYNTH_TIMEOUT_MS);

test('the messages table has the sparse byOutbox index keyed by outbox and createdAt', () => {
  const table = Object.values(resourcesOfType(template, 'AWS::DynamoDB::Table')).find((t) =>
    (t.Properties.GlobalSecondaryIndexes ?? []).some(
      (i: { IndexName: string }) => i.IndexName === 'byOutbox',
    ),
  );
  const index = table?.Properties.GlobalSecondaryIndexes.find(
    (i: { IndexName: string }) => i.IndexName === 'byOutbox',
  );
  expect(index).toEqual({
    IndexName: 'byOutbox',
    KeySchema: [
      { AttributeName: 'outbox', KeyType: 'HASH' },
      { AttributeName: 'createdAt', KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'ALL' },
  });
});

test('sms-sweeper runs every minute on an EventBridge rule, and only scheduled functions get one', () => {
  const ids = functionIds(template);
  const rules = Object.values(resourcesOfType(template, 'AWS::Events::Rule'));
  const scheduled = Object.keys(FUNCTIONS).filter((fn) => FUNCTIONS[fn as keyof typeof FUNCTIONS].schedule);
  expect(scheduled).toEqual(['sms-sweeper']);
  expect(rules).toHaveLength(1);
  expect(rules[0]?.Properties.ScheduleExpression).toBe('rate(1 minute)');
  expect(refId(rules[0]?.Properties.Targets[0].Arn)).toBe(ids['sms-sweeper']);
  const permissions = Object.values(resourcesOfType(template, 'AWS::Lambda::Permission')).filter(
    (p) => p.Properties.Principal === 'events.amazonaws.com',
  );
  expect(permissions.map((p) => refId(p.Properties.FunctionName))).toEqual([ids['sms-sweeper']]);
});

test('sms-sweeper may send to the SMS queue only, and knows its URL', () => {
  const fn = resourcesOfType(template, 'AWS::Lambda::Function')[functionIds(template)['sms-sweeper']];
  const env = fn?.Properties.Environment.Variables as Record<string, unknown>;
  expect(refId(env.SMS_QUEUE_URL)).toBe(refId(stack.resolve(stack.queues.sms.queue.queueUrl)));
  expect(env.HANDOVER_OUTBOUND_QUEUE_URL).toBeUndefined();
  expect(env.HANDOVER_INBOUND_QUEUE_URL).toBeUndefined();
});

test('an alarm on swept SMS uses the SMS_SWEEP_ALARM_THRESHOLD setting', () => {
  const alarm = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).find(
    (a) => a.Properties.MetricName === 'SmsOutboxSwept',
  );
  expect(alarm?.Properties).toMatchObject({
    Namespace: 'Cognigy8x8Bridge',
    Dimensions: [{ Name: 'service', Value: 'sms-sweeper' }],
    Statistic: 'Sum',
    Threshold: 3,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  });
});

test('every queue URL is an output, for npm run redrive', () => {
  const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
  for (const queue of Object.keys(QUEUES) as QueueName[]) {
    const key = `${queue[0]!.toUpperCase()}${queue.slice(1)}QueueUrl`;
    expect(refId(outputs[key]?.Value)).toBe(refId(stack.resolve(stack.queues[queue].queue.queueUrl)));
  }
});
