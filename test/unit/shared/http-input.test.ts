/**
 * The request bounds every route shares (functions/shared/http.ts toApiRequest): the nesting depth counted before
 * JSON.parse (also for the webhooks, which parse the raw body themselves) and the control-character rules of the
 * flow routes (functions/shared/control-characters.ts).
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { identifierControlIndex, textControlIndex } from '../../../functions/shared/control-characters';
import { MAX_JSON_DEPTH, jsonDepthExceeds, toApiRequest } from '../../../functions/shared/http';

const event = (body: string, extra: Partial<APIGatewayProxyEvent> = {}) =>
  ({
    body,
    headers: {},
    pathParameters: null,
    queryStringParameters: null,
    ...extra,
  }) as APIGatewayProxyEvent;

describe('JSON depth', () => {
  test('counts brackets outside strings only, escaped quotes included', () => {
    const inString = JSON.stringify({ text: '[[[[[[[[[[{{{{{{{{{ \\" [[[[' });
    expect(jsonDepthExceeds(inString, 1)).toBe(false);
    expect(jsonDepthExceeds('[[[]]]', 2)).toBe(true);
    expect(jsonDepthExceeds('[[[]]]', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":[{"b":"]]]]"}]}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a\\"[[[[[":1}', 1)).toBe(false);
  });

  test(`${MAX_JSON_DEPTH} levels pass; one more is JSON_TOO_DEEP, with or without JSON parsing`, () => {
    const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(() => toApiRequest(event(nested(MAX_JSON_DEPTH)), 100_000, true)).not.toThrow();
    for (const parseJson of [true, false]) {
      expect(() => toApiRequest(event(nested(MAX_JSON_DEPTH + 1)), 100_000, parseJson)).toThrow(
        expect.objectContaining({ code: 'JSON_TOO_DEEP', statusCode: 400 }),
      );
    }
  });

  test('the size limit is checked first (413 for a huge deep body)', () => {
    expect(() => toApiRequest(event('['.repeat(5_000)), 1_000, true)).toThrow(
      expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }),
    );
  });
});

describe('control characters', () => {
  test('text keeps tab, LF, FF and CR; refuses NUL, other C0, DEL and C1', () => {
    expect(textControlIndex('a\tb\nc\fd\re')).toBe(-1);
    for (const c of ['\u0000', '\u0001', '\u000b', '\u001b', '\u007f', '\u0085', '\u009f']) {
      expect([c.charCodeAt(0), textControlIndex(`ab${c}`)]).toEqual([c.charCodeAt(0), 2]);
    }
  });

  test('identifiers refuse every control character and the Unicode line separators', () => {
    for (const c of ['\t', '\n', '\r', '\u0000', '\u2028', '\u2029', '\u0085']) {
      expect([c.charCodeAt(0), identifierControlIndex(`id${c}`)]).toEqual([c.charCodeAt(0), 2]);
    }
    expect(identifierControlIndex('otp-1/ünïcødé €')).toBe(-1);
  });

  test('flow routes name the field: text rules for text, identifier rules under id keys, and for parameters', () => {
    const body = (value: unknown) => event(JSON.stringify(value));
    const failure = (e: APIGatewayProxyEvent) => {
      try {
        toApiRequest(e, 100_000, true);
      } catch (error) {
        return error as { code: string; details: { path: string }[] };
      }
      return undefined;
    };
    expect(failure(body({ text: 'line\nbreak', clientMessageId: 'ok' }))).toBeUndefined();
    expect(failure(body({ messages: [{ clientMessageId: 'a\nb' }] }))).toMatchObject({
      code: 'CONTROL_CHARACTER',
      details: [{ path: 'messages[0].clientMessageId' }],
    });
    expect(failure(body({ cognigy: { sessionId: 's\u0000' } }))?.details).toEqual([
      expect.objectContaining({ path: 'cognigy.sessionId' }),
    ]);
    expect(failure(body({ properties: { 'k\u0001': 'v' } }))?.details).toEqual([
      expect.objectContaining({ path: 'properties.k\u0001' }),
    ]);
    expect(failure(event('', { queryStringParameters: { sessionId: 's\t' } }))?.details).toEqual([
      expect.objectContaining({ path: 'query.sessionId' }),
    ]);
    // The webhooks (no JSON parsing here) relay what 8x8 sends; their own schemas judge it.
    expect(() => toApiRequest(body({ text: 'a\u0000' }), 100_000, false)).not.toThrow();
  });
});
