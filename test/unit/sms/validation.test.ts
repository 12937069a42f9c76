import '../../helpers/env';
import fc from 'fast-check';
import { SmsValidationError, type SmsIssue } from '../../../functions/sms/error-codes';
import {
  normaliseDestination,
  normaliseSmsBatch,
  normaliseSmsRequest,
} from '../../../functions/sms/normalise';
import { measureText } from '../../../functions/sms/text';

const NOW = new Date('2026-03-02T10:00:00.000Z');
const base = { destination: '+6591234567', text: 'Your code is 123456' };

function issuesOf(body: unknown): SmsIssue[] {
  try {
    normaliseSmsRequest(body, NOW);
  } catch (error) {
    if (error instanceof SmsValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a validation error');
}

function codeOf(body: unknown): string {
  const issues = issuesOf(body);
  return issues[0]?.code ?? 'none';
}

describe('destination normalisation', () => {
  test.each([
    ['E.164 with +', '+6591234567', undefined, '+6591234567'],
    ['international without +', '6591234567', undefined, '+6591234567'],
    ['separators are stripped', '+1 (202) 555-0275', undefined, '+12025550275'],
    ['dots are stripped', '+1.202.555.0275', undefined, '+12025550275'],
    ['SG national with country', '9123 4567', 'SG', '+6591234567'],
    ['US national with country', '(202) 555-0308', 'US', '+12025550308'],
    ['GB national with trunk 0', '07911 123456', 'GB', '+447911123456'],
    ['DE national with trunk 0', '0151 12345678', 'DE', '+4915112345678'],
    ['international number although country is set', '6591234567', 'SG', '+6591234567'],
    ['international with + ignores country', '+447911123456', 'SG', '+447911123456'],
    ['8x8 minimum: 7 digits', '+1234567', undefined, '+1234567'],
    ['8x8 maximum: 15 digits', '+123456789012345', undefined, '+123456789012345'],
  ] as const)('%s: %s (%s) → %s', (_name, raw, country, expected) => {
    expect(normaliseDestination(raw, country)).toEqual({ ok: true, e164: expected });
  });

  test.each([
    ['6 digits is below 8x8 minimum', '+123456', undefined, 'INVALID_DESTINATION'],
    ['16 digits is above 8x8 maximum', '+1234567890123456', undefined, 'INVALID_DESTINATION'],
    ['leading 0 after +', '+0123456789', undefined, 'INVALID_DESTINATION'],
    ['national number without country', '07911123456', undefined, 'INVALID_DESTINATION'],
    ['letters', '+65ABC4567', undefined, 'INVALID_DESTINATION'],
    ['only separators', ' - ', undefined, 'DESTINATION_MISSING'],
    ['not a number of that country', '12', 'SG', 'INVALID_DESTINATION'],
  ] as const)('%s: %s is refused with %s', (_name, raw, country, code) => {
    const result = normaliseDestination(raw, country);
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.code).toBe(code);
  });

  test('the normalised destination always matches 8x8 pattern with a +', () => {
    const sms = normaliseSmsRequest({ ...base, destination: '0151-1234 5678', country: 'de' }, NOW);
    expect(sms.request.destination).toBe('+4915112345678');
    expect(sms.request.country).toBe('DE');
  });
});

describe('a body pasted from Cognigy 8x8 extension', () => {
  test('country null, encoding AUTO and empty optional fields are accepted and dropped', () => {
    const body = {
      destination: '6591234567',
      text: 'Hello from Cognigy',
      encoding: 'AUTO',
      source: 'AwesomeName',
      country: null,
      clientMessageId: '',
      scheduled: '',
      expiry: '',
      dlrCallbackUrl: '',
      clientIp: '',
      track: '',
    };
    const sms = normaliseSmsRequest(body, NOW);
    expect(sms.request).toEqual({
      destination: '+6591234567',
      text: 'Hello from Cognigy',
      encoding: 'AUTO',
      source: 'AwesomeName',
    });
    expect(sms.cognigy).toBeUndefined();
  });

  test('every 8x8 field is carried over', () => {
    const sms = normaliseSmsRequest(
      {
        destination: '91234567',
        country: 'SG',
        text: 'Hi',
        source: '6512345678',
        clientMessageId: 'otp-1',
        encoding: 'UCS2',
        scheduled: '2026-03-02T19:20:30+08:00',
        expiry: '2026-03-03T10:00:00Z',
        track: 'Outcome',
        clientIp: '203.0.113.7',
        dlrCallbackUrl: 'https://example.com/dlr',
      },
      NOW,
    );
    expect(sms.request).toEqual({
      destination: '+6591234567',
      country: 'SG',
      text: 'Hi',
      source: '6512345678',
      clientMessageId: 'otp-1',
      encoding: 'UCS2',
      scheduled: '2026-03-02T11:20:30.000Z',
      expiry: '2026-03-03T10:00:00.000Z',
      track: 'Outcome',
      clientIp: '203.0.113.7',
      dlrCallbackUrl: 'https://example.com/dlr',
    });
  });
});

describe('field rules', () => {
  test.each([
    ['unknown top-level field', 'UNKNOWN_FIELD', 'foo', { ...base, foo: 1 }],
    [
      'batch-only field on a single send',
      'UNKNOWN_FIELD',
      'includeMessagesInResponse',
      { ...base, includeMessagesInResponse: true },
    ],
    [
      'unknown field in cognigy',
      'UNKNOWN_FIELD',
      'cognigy.urlToken',
      { ...base, cognigy: { urlToken: 'x' } },
    ],
    ['destination missing', 'DESTINATION_MISSING', 'destination', { text: 'x' }],
    ['destination empty', 'DESTINATION_MISSING', 'destination', { ...base, destination: '' }],
    ['destination as a number', 'INVALID_TYPE', 'destination', { ...base, destination: 6591234567 }],
    ['text missing', 'TEXT_MISSING', 'text', { destination: '+6591234567' }],
    ['text empty', 'TEXT_MISSING', 'text', { ...base, text: '' }],
    ['text blank', 'TEXT_MISSING', 'text', { ...base, text: '   ' }],
    ['text not a string', 'INVALID_TYPE', 'text', { ...base, text: 42 }],
    ['country unknown', 'INVALID_COUNTRY', 'country', { ...base, country: 'XX' }],
    ['country too long', 'INVALID_COUNTRY', 'country', { ...base, country: 'SGP' }],
    ['alphanumeric sender of 12', 'INVALID_SOURCE', 'source', { ...base, source: 'AwesomeNames' }],
    ['numeric sender of 17', 'INVALID_SOURCE', 'source', { ...base, source: '12345678901234567' }],
    ['sender with non-ASCII letters', 'INVALID_SOURCE', 'source', { ...base, source: 'Ünïcode' }],
    ['encoding in lower case', 'INVALID_ENCODING', 'encoding', { ...base, encoding: 'gsm7' }],
    ['encoding unknown', 'INVALID_ENCODING', 'encoding', { ...base, encoding: 'UTF8' }],
    ['encoding as a number', 'INVALID_TYPE', 'encoding', { ...base, encoding: 7 }],
    ['track unknown', 'INVALID_TRACK', 'track', { ...base, track: 'Maybe' }],
    [
      'clientMessageId of 351',
      'INVALID_CLIENT_MESSAGE_ID',
      'clientMessageId',
      { ...base, clientMessageId: 'x'.repeat(351) },
    ],
    ['clientIp not an IP', 'INVALID_CLIENT_IP', 'clientIp', { ...base, clientIp: 'localhost' }],
    [
      'callback not http(s)',
      'INVALID_CALLBACK_URL',
      'dlrCallbackUrl',
      { ...base, dlrCallbackUrl: 'ftp://example.com/dlr' },
    ],
    [
      'callback not a URL',
      'INVALID_CALLBACK_URL',
      'dlrCallbackUrl',
      { ...base, dlrCallbackUrl: 'receipts please' },
    ],
    [
      'schedule without offset',
      'INVALID_SCHEDULE',
      'scheduled',
      { ...base, scheduled: '2026-03-03T10:00:00' },
    ],
    ['schedule not a date', 'INVALID_SCHEDULE', 'scheduled', { ...base, scheduled: 'tomorrow' }],
    [
      'schedule beyond 7 days',
      'SCHEDULE_TOO_FAR',
      'scheduled',
      { ...base, scheduled: '2026-03-09T10:01:00Z' },
    ],
    [
      'schedule well in the past',
      'SCHEDULE_IN_PAST',
      'scheduled',
      { ...base, scheduled: '2026-03-02T09:50:00Z' },
    ],
    ['expiry in the past', 'EXPIRY_IN_PAST', 'expiry', { ...base, expiry: '2026-03-02T09:59:59Z' }],
    ['expiry now', 'EXPIRY_IN_PAST', 'expiry', { ...base, expiry: '2026-03-02T10:00:00Z' }],
    [
      'expiry before schedule',
      'EXPIRY_BEFORE_SCHEDULE',
      'expiry',
      { ...base, scheduled: '2026-03-03T10:00:00Z', expiry: '2026-03-03T09:00:00Z' },
    ],
    [
      'receipts asked without URLToken',
      'INVALID_COGNIGY',
      'cognigy.URLToken',
      { ...base, cognigy: { userId: 'u', sessionId: 's', injectReceipts: true } },
    ],
    [
      'receipt event unknown',
      'INVALID_COGNIGY',
      'cognigy.receiptEvents[0]',
      { ...base, cognigy: { receiptEvents: ['bounced'] } },
    ],
    [
      'Cognigy endpoint over plain http',
      'INVALID_COGNIGY',
      'cognigy.endpointBaseUrl',
      { ...base, cognigy: { endpointBaseUrl: 'http://endpoint.example.com' } },
    ],
  ])('%s → %s at %s', (_name, code, path, body) => {
    const issues = issuesOf(body);
    expect(issues[0]).toMatchObject({ code, path });
  });

  test.each([
    ['alphanumeric sender of 11', { ...base, source: 'AwesomeName' }],
    ['sender with space', { ...base, source: 'My Bank' }],
    ['numeric sender of 16', { ...base, source: '1234567890123456' }],
    ['numeric sender with + (16 characters)', { ...base, source: '+123456789012345' }],
    ['clientMessageId of 350', { ...base, clientMessageId: 'x'.repeat(350) }],
    ['IPv6 clientIp', { ...base, clientIp: '2001:db8::1' }],
    ['schedule exactly 7 days ahead', { ...base, scheduled: '2026-03-09T10:00:00Z' }],
    ['schedule a minute ago (clock skew)', { ...base, scheduled: '2026-03-02T09:59:00Z' }],
  ])('%s is accepted', (_name, body) => {
    expect(() => normaliseSmsRequest(body, NOW)).not.toThrow();
  });

  test('a Cognigy endpoint on loopback http is accepted in local mode only', () => {
    const body = { ...base, cognigy: { endpointBaseUrl: 'http://127.0.0.1:4011' } };
    expect(() => normaliseSmsRequest(body, NOW, { allowLoopback: true })).not.toThrow();
    expect(codeOf(body)).toBe('INVALID_COGNIGY');
  });

  test('a broken country does not also blame the destination it would have converted', () => {
    expect(issuesOf({ destination: '91234567', text: 'x', country: 5 }).map((i) => i.code)).toEqual([
      'INVALID_TYPE',
    ]);
  });

  test('a body that is not an object is INVALID_BODY', () => {
    for (const body of [undefined, null, [], 'text', 42]) expect(codeOf(body)).toBe('INVALID_BODY');
  });

  test('every problem is listed with its path; the first one names the error', () => {
    const error = (() => {
      try {
        normaliseSmsRequest({ destination: 'abc', text: '', encoding: 'X', extra: true }, NOW);
      } catch (e) {
        return e as SmsValidationError;
      }
      throw new Error('expected an error');
    })();
    expect(error.statusCode).toBe(400);
    // Shape problems and the rule problems of the remaining fields, all in one answer.
    expect(error.issues.map((i) => [i.path, i.code]).sort()).toEqual(
      [
        ['destination', 'INVALID_DESTINATION'],
        ['encoding', 'INVALID_ENCODING'],
        ['extra', 'UNKNOWN_FIELD'],
        ['text', 'TEXT_MISSING'],
      ].sort(),
    );
    expect(error.code).toBe(error.issues[0]?.code);
    expect(error.message).toMatch(/and 3 more problems/);
  });

  test('cognigy ids: injectReceipts means the final outcomes; receiptEvents overrides', () => {
    const ids = { userId: 'u-1', sessionId: 's-1', URLToken: 'token-1' };
    expect(
      normaliseSmsRequest({ ...base, cognigy: { ...ids, injectReceipts: true } }, NOW).cognigy?.receiptEvents,
    ).toEqual(['delivered', 'undelivered', 'rejected', 'failed']);
    expect(
      normaliseSmsRequest(
        { ...base, cognigy: { ...ids, injectReceipts: true, receiptEvents: ['undelivered'] } },
        NOW,
      ).cognigy?.receiptEvents,
    ).toEqual(['undelivered']);
    expect(normaliseSmsRequest({ ...base, cognigy: ids }, NOW).cognigy).toEqual({
      ...ids,
      receiptEvents: [],
    });
    // Empty templated ids mean no Cognigy session at all.
    expect(
      normaliseSmsRequest({ ...base, cognigy: { userId: '', sessionId: '', URLToken: '' } }, NOW).cognigy,
    ).toBeUndefined();
  });
});

describe('text size (8x8 truncates past 10 parts)', () => {
  test.each([
    ['GSM7 single part', 'a'.repeat(160), 'AUTO', { encoding: 'GSM7', units: 160, parts: 1 }],
    ['GSM7 two parts', 'a'.repeat(161), 'AUTO', { encoding: 'GSM7', units: 161, parts: 2 }],
    ['GSM7 extension characters count two', '€[]{}', 'AUTO', { encoding: 'GSM7', units: 10, parts: 1 }],
    ['UCS2 single part', 'ж'.repeat(70), 'AUTO', { encoding: 'UCS2', units: 70, parts: 1 }],
    ['UCS2 two parts', 'ж'.repeat(71), 'AUTO', { encoding: 'UCS2', units: 71, parts: 2 }],
    ['emoji are two UTF-16 units', '😀', 'AUTO', { encoding: 'UCS2', units: 2, parts: 1 }],
    ['UCS2 forced on GSM text', 'abc', 'UCS2', { encoding: 'UCS2', units: 3, parts: 1 }],
  ] as const)('%s', (_name, text, encoding, expected) => {
    expect(measureText(text, encoding)).toEqual(expected);
  });

  test.each([
    ['GSM7 1530 septets (10 parts)', 'a'.repeat(1530), undefined],
    ['GSM7 1531 septets', 'a'.repeat(1531), 'TEXT_TOO_LONG'],
    ['GSM7 extension characters at the limit', '€'.repeat(765), undefined],
    ['GSM7 extension characters over the limit', '€'.repeat(765) + 'a', 'TEXT_TOO_LONG'],
    ['UCS2 670 units (10 parts)', 'ж'.repeat(670), undefined],
    ['UCS2 671 units', 'ж'.repeat(671), 'TEXT_TOO_LONG'],
    ['UCS2 emoji at the limit', '😀'.repeat(335), undefined],
    ['UCS2 emoji over the limit', '😀'.repeat(336), 'TEXT_TOO_LONG'],
  ])('%s', (_name, text, code) => {
    if (code) expect(codeOf({ ...base, text })).toBe(code);
    else expect(normaliseSmsRequest({ ...base, text }, NOW).size.parts).toBe(10);
  });

  test('a GSM7 text that fits is refused when UCS2 is forced and it needs more than 10 parts', () => {
    expect(codeOf({ ...base, text: 'a'.repeat(700), encoding: 'UCS2' })).toBe('TEXT_TOO_LONG');
    expect(normaliseSmsRequest({ ...base, text: 'a'.repeat(700), encoding: 'GSM7' }, NOW).size).toMatchObject(
      { parts: 5 },
    );
  });
});

describe('batch normalisation', () => {
  test('template fills what messages leave out; a message value wins', () => {
    const batch = normaliseSmsBatch(
      {
        messages: [
          { destination: '+6591234567' },
          { destination: '+6591234568', text: 'Own text', source: 'Other' },
        ],
        template: { text: 'Shared', source: 'Brand', encoding: 'GSM7' },
        clientBatchId: 'camp-1',
      },
      NOW,
    );
    expect(batch.mode).toBe('messages');
    expect(batch.items.map((i) => i.ok && i.value.request)).toEqual([
      { destination: '+6591234567', text: 'Shared', source: 'Brand', encoding: 'GSM7' },
      { destination: '+6591234568', text: 'Own text', source: 'Other', encoding: 'GSM7' },
    ]);
  });

  test('destinations with clientBatchId get clientMessageId "<clientBatchId>/<destination>" as 8x8 names them', () => {
    const batch = normaliseSmsBatch(
      { destinations: ['+6591234567', '091234568'], template: { text: 'Hi' }, clientBatchId: 'camp-2' },
      NOW,
    );
    expect(batch.items[0]).toMatchObject({
      ok: true,
      value: { request: { clientMessageId: 'camp-2/+6591234567' } },
    });
    // A national number without country fails alone.
    expect(batch.items[1]).toMatchObject({
      ok: false,
      issues: [{ path: 'destinations[1]', code: 'INVALID_DESTINATION' }],
    });
  });

  test('item problems stay with their item; problems from the template name the template', () => {
    const batch = normaliseSmsBatch(
      {
        messages: [
          { destination: '+6591234567' },
          { destination: '+6591234568', foo: 1 },
          { destination: '+6591234569', text: '' },
        ],
        template: { text: 'Shared', scheduled: '2026-04-01T00:00:00Z' },
      },
      NOW,
    );
    expect(batch.items[0]).toMatchObject({
      ok: false,
      issues: [{ path: 'template.scheduled', code: 'SCHEDULE_TOO_FAR' }],
    });
    // The shape problem comes with the rule problems of the item's other fields (here the template's schedule).
    expect(batch.items[1]).toMatchObject({
      ok: false,
      issues: [
        { path: 'messages[1].foo', code: 'UNKNOWN_FIELD' },
        { path: 'template.scheduled', code: 'SCHEDULE_TOO_FAR' },
      ],
    });
    expect(batch.items[2]).toMatchObject({ ok: false });
  });

  test.each([
    ['unknown top-level field', 'UNKNOWN_FIELD', { messages: [base], extra: 1 }],
    [
      'unknown template field',
      'UNKNOWN_FIELD',
      { destinations: ['+6591234567'], template: { text: 'x', country: 'SG' } },
    ],
    ['neither messages nor destinations', 'BATCH_EMPTY', { template: { text: 'x' } }],
    ['empty messages', 'BATCH_EMPTY', { messages: [] }],
    ['501 messages', 'BATCH_TOO_LARGE', { messages: Array.from({ length: 501 }, () => base) }],
    ['clientBatchId of 21', 'INVALID_CLIENT_BATCH_ID', { messages: [base], clientBatchId: 'x'.repeat(21) }],
    ['not an object', 'INVALID_BODY', [base]],
  ])('%s → %s for the whole batch', (_name, code, body) => {
    expect(() => normaliseSmsBatch(body, NOW)).toThrow(expect.objectContaining({ code }));
  });

  test('messages win over destinations (as in 8x8), and the ignored list is not validated', () => {
    const batch = normaliseSmsBatch({ messages: [base], destinations: [42] }, NOW);
    expect(batch.mode).toBe('messages');
    expect(batch.items).toHaveLength(1);
  });
});

describe('any input gets an answer, never a crash', () => {
  const fields = [
    'destination',
    'text',
    'source',
    'country',
    'clientMessageId',
    'encoding',
    'scheduled',
    'expiry',
    'track',
    'clientIp',
    'dlrCallbackUrl',
    'cognigy',
    'extra',
  ];
  const value = fc.oneof(
    fc.string(),
    fc.constantFrom(
      '',
      '+6591234567',
      '91234567',
      'SG',
      'AUTO',
      'GSM7',
      '2026-03-03T10:00:00Z',
      'https://x.example',
      '€'.repeat(800),
    ),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.jsonValue(),
  );
  const smsLike = fc.dictionary(fc.constantFrom(...fields), value);

  const outcome = (run: () => unknown): 'ok' | 'invalid' => {
    try {
      run();
      return 'ok';
    } catch (error) {
      if (error instanceof SmsValidationError && error.statusCode === 400 && error.issues.length > 0)
        return 'invalid';
      throw error;
    }
  };

  test('single: a normalised SMS or a 400 with at least one issue', () => {
    fc.assert(
      fc.property(fc.oneof(smsLike, fc.jsonValue()), (body) => {
        expect(['ok', 'invalid']).toContain(outcome(() => normaliseSmsRequest(body, NOW)));
      }),
      { numRuns: 500 },
    );
  });

  test('batch: per-item results or a 400, whatever the items hold', () => {
    fc.assert(
      fc.property(
        fc.record({
          messages: fc.array(fc.oneof(smsLike, value), { minLength: 1, maxLength: 5 }),
          template: fc.option(smsLike, { nil: undefined }),
        }),
        (body) => {
          expect(['ok', 'invalid']).toContain(outcome(() => normaliseSmsBatch(body, NOW)));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('every accepted destination matches 8x8 pattern with a +', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'0123456789 +-().'), maxLength: 20 }),
        fc.option(fc.constantFrom('SG', 'US', 'DE', 'GB', 'IN'), { nil: undefined }),
        (destination, country) => {
          const result = normaliseDestination(destination, country);
          if (result.ok) expect(result.e164).toMatch(/^\+[1-9][0-9]{6,14}$/);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

test('field names that exist on Object.prototype are unknown fields, not a crash', () => {
  for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
    const body = JSON.parse(`{"destination":"+6591234567","text":"hi","${name}":0}`);
    expect(() => normaliseSmsRequest(body, NOW)).toThrow(SmsValidationError);
    expect(() => normaliseSmsRequest(JSON.parse(`{"${name}":0}`), NOW)).toThrow(SmsValidationError);
  }
});

describe('cognigy.receiptEvents', () => {
  const cognigy = { userId: 'u', sessionId: 's', URLToken: 't' };
  test("takes 8x8's upper-case status codes (as GET /sms answers them) and the earlier lower-case names", () => {
    const upper = normaliseSmsRequest(
      { ...base, cognigy: { ...cognigy, receiptEvents: ['SENT', 'UNDELIVERED'] } },
      NOW,
    );
    const lower = normaliseSmsRequest(
      { ...base, cognigy: { ...cognigy, receiptEvents: ['sent', 'undelivered'] } },
      NOW,
    );
    expect(upper.cognigy?.receiptEvents).toEqual(['sent', 'undelivered']);
    expect(lower.cognigy?.receiptEvents).toEqual(['sent', 'undelivered']);
    expect(codeOf({ ...base, cognigy: { ...cognigy, receiptEvents: ['Delivered'] } })).not.toBe('none');
  });
});
