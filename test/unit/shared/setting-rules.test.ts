/**
 * Every setting of the catalogue (functions/shared/catalogue.ts SETTING_SPECS) refuses a bad value with one sentence
 * naming the setting, the value and what is allowed; the table below must list each setting, so a new one cannot
 * be added without showing its refusal here.
 */
import { SETTING_SPECS, SETTINGS } from '../../../functions/shared/catalogue';
import {
  checkSettings,
  loadSettings,
  loadSmsSettings,
  settingProblems,
} from '../../../functions/shared/config';
import { InvalidSettingError, decimal, parseSetting } from '../../../functions/shared/setting-rules';
import { DEFAULT_HANDOVER_RULES } from '../../../functions/handover/rules';

/** One refused value per setting and the sentence it gets (null: any non-blank text is allowed). */
const REFUSALS: Record<keyof typeof SETTING_SPECS, [string, string] | null> = {
  publicBaseUrl: ['bridge.example.com', 'an absolute http:// or https:// URL'],
  upstreamTimeoutMs: ['abc', 'a whole number from 1 to 60000 milliseconds'],
  secretsMaxAgeSeconds: ['-1', 'a whole number from 0 to 86400 seconds'],
  recordTtlDays: ['0', 'a whole number from 1 to 3650 days'],
  webhookMaxAgeMs: ['1.5', 'a whole number from 1 to 3600000 milliseconds'],
  acceptUnsignedVerify: ['yes', 'one of true or false'],
  allowLoopbackUrls: ['TRUE', 'one of true or false'],
  handoverRules: ['nope', 'a JSON object of relay rules (README "Relay rules") (not JSON)'],
  retryBaseDelaySeconds: ['0', 'a number more than 0 and at most 43200 seconds'],
  retryMaxDelaySeconds: ['86400', 'a number more than 0 and at most 43200 seconds'],
  smsReceiptMode: ['perRequest', 'one of account or perMessage'],
  smsIdempotencyTtlSeconds: ['1e3', 'a whole number at least 1 seconds'],
  smsIdempotencyWaitMs: ['8000', 'a whole number from 0 to 7000 milliseconds'],
  smsSweepAgeSeconds: ['soon', 'a whole number at least 0 seconds'],
  smsSweepBatchSize: ['1001', 'a whole number from 1 to 1000'],
  smsSweepAlarmThreshold: ['-1', 'a whole number at least 0'],
  unownedRecordsOwner: null,
  handoverStartWaitMs: ['8000', 'a whole number from 0 to 7000 milliseconds'],
  cognigyRetryTimeoutMs: ['0', 'a whole number from 1 to 60000 milliseconds'],
  ambiguousTimeoutPolicy: ['retry', 'one of resend or fail'],
  smsRateLimitPerSecond: ['-1', 'a number from 0 to 100000 requests per second'],
  smsPacerEdgeGuardMs: ['950', 'a whole number from 0 to 900 milliseconds'],
  smsQueueBatchSize: ['10001', 'a whole number from 1 to 10000 messages'],
  smsQueueBatchingWindowSeconds: ['0.5', 'a whole number from 0 to 300 seconds'],
  smsReplyWindowHours: ['a day', 'a number from 0 to 720 hours'],
  smsBotEndpointUrl: ['endpoint-app.cognigy.ai/abc', 'an absolute http:// or https:// URL'],
  smsBotSessionIdleMinutes: ['0', 'a whole number from 1 to 10080 minutes'],
  smsBotOutputs: ['merge', 'one of join or separate'],
  smsBotMaxParts: ['11', 'a whole number from 1 to 10 parts'],
  smsOptOutKeywords: [
    'STOP;END',
    'a comma-separated list of keywords (letters or digits, e.g. "STOP,UNSUBSCRIBE"), or - for none',
  ],
  smsOptInKeywords: [
    'START!',
    'a comma-separated list of keywords (letters or digits, e.g. "STOP,UNSUBSCRIBE"), or - for none',
  ],
  smsHelpKeywords: [
    ',',
    'a comma-separated list of keywords (letters or digits, e.g. "STOP,UNSUBSCRIBE"), or - for none',
  ],
  smsHelpText: null,
  smsOptOutConfirmationText: null,
  smsOptInConfirmationText: null,
  smsOptOutScope: ['number', 'one of sender or account'],
};

const cases = Object.entries(REFUSALS).flatMap(([key, refusal]) =>
  refusal ? [[SETTINGS[key as keyof typeof SETTINGS], ...refusal] as const] : [],
);

test('the table covers every setting of the catalogue', () => {
  expect(Object.keys(REFUSALS).sort()).toEqual(Object.keys(SETTING_SPECS).sort());
});

test.each(cases)('%s=%j is refused: "Setting %s is …, but it must be %s."', (name, value, allowed) => {
  const expected = `Setting ${name} is ${JSON.stringify(value)}, but it must be ${allowed}.`;
  expect(() => loadSettings({ [name]: value })).toThrow(InvalidSettingError);
  expect(() => loadSettings({ [name]: value })).toThrow(expected);
  expect(() => checkSettings({ [name]: value })).toThrow(expected);
  const [problem] = settingProblems({ [name]: value });
  expect({ code: problem?.code, statusCode: problem?.statusCode, setting: problem?.setting }).toEqual({
    code: 'NOT_CONFIGURED',
    statusCode: 503,
    setting: name,
  });
});

test('every invalid setting is reported, in catalogue order', () => {
  const problems = settingProblems({
    RECORD_TTL_DAYS: '0',
    UPSTREAM_TIMEOUT_MS: 'abc',
    HANDOVER_RULES: '[]',
  });
  expect(problems.map((p) => p.setting)).toEqual([
    'UPSTREAM_TIMEOUT_MS',
    'RECORD_TTL_DAYS',
    'HANDOVER_RULES',
  ]);
  expect(problems[2]!.message).toBe(
    'Setting HANDOVER_RULES is "[]", but it must be a JSON object of relay rules (README "Relay rules") ((root): Invalid input: expected object, received array).',
  );
});

test('unset or blank settings take their documented defaults; values are trimmed', () => {
  expect(loadSmsSettings({ UPSTREAM_TIMEOUT_MS: '', RECORD_TTL_DAYS: '  ' })).toMatchObject({
    publicBaseUrl: undefined,
    upstreamTimeoutMs: 5000,
    secretsMaxAgeSeconds: 300,
    recordTtlDays: 30,
    webhookMaxAgeMs: 60_000,
    acceptUnsignedVerify: false,
    allowLoopbackUrls: false,
    handoverRules: DEFAULT_HANDOVER_RULES,
    retryBaseDelaySeconds: 2,
    retryMaxDelaySeconds: 300,
    receiptMode: 'account',
    idempotencyTtlSeconds: 86_400,
    idempotencyWaitMs: 3000,
    sweepAgeSeconds: 60,
    sweepBatchSize: 100,
    sweepAlarmThreshold: 1,
    handoverStartWaitMs: 5000,
    cognigyRetryTimeoutMs: 8000,
    ambiguousTimeoutPolicy: 'resend',
  });
  expect(loadSettings({ UPSTREAM_TIMEOUT_MS: ' 7000 ', RETRY_BASE_DELAY_SECONDS: '0.5' })).toMatchObject({
    upstreamTimeoutMs: 7000,
    retryBaseDelaySeconds: 0.5,
  });
  expect(loadSettings({ HANDOVER_RULES: '{"typing":"inject"}' }).handoverRules).toEqual({
    ...DEFAULT_HANDOVER_RULES,
    typing: 'inject',
  });
});

test('a very long value is shortened in the sentence', () => {
  const value = `{"endOn":[${'"idle",'.repeat(60)}"x"]}`;
  const [problem] = settingProblems({ HANDOVER_RULES: value });
  expect(problem!.message).toContain(`${JSON.stringify(value.slice(0, 120)).slice(0, -1)}…"`);
  expect(problem!.message.length).toBeLessThan(400);
});

test('the rule builders say what they allow', () => {
  const rate = decimal({ min: 0, max: 100_000, unit: 'requests per second', fallback: 1800 });
  expect(rate.parse(undefined)).toBe(1800);
  expect(rate.parse('0')).toBe(0);
  expect(rate.parse('12.5')).toBe(12.5);
  expect(() => parseSetting('RATE', rate, '-1')).toThrow(
    'Setting RATE is "-1", but it must be a number from 0 to 100000 requests per second.',
  );
});
