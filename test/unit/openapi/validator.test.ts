import '../../helpers/env';
import { OpenApiValidator, answerOf, formatViolations } from '../../helpers/openapi-validator';

const openapi = new OpenApiValidator();
const json = 'application/json; charset=utf-8';
const queued = { ok: true, queued: true, conversationId: 'ID-0' };

describe('the OpenAPI answer validator (test/helpers/openapi-validator.ts)', () => {
  test('accepts an answer the document describes, found from the concrete path', () => {
    expect(
      openapi.checkAnswer({
        method: 'POST',
        path: '/handover/ID-0/messages',
        status: 202,
        contentType: json,
        body: queued,
      }),
    ).toEqual([]);
    expect(openapi.operationFor('GET', '/handover/T6c-pPJ%3Dx')?.template).toBe('/handover/{conversationId}');
    // An id that breaks its pattern is still the route's (it answers 400), but only where no exact path fits.
    expect(openapi.operationFor('GET', '/sms/not-a-uuid')?.template).toBe('/sms/{messageId}');
    expect(openapi.operationFor('GET', '/sms/a/b')).toBeUndefined();
    expect(openapi.operationFor('GET', '/sms/batch')).toBeUndefined();
  });

  test('refuses a status the operation does not document', () => {
    const violations = openapi.checkAnswer({
      method: 'POST',
      path: '/handover/ID-0/messages',
      status: 418,
      contentType: json,
      body: queued,
    });
    expect(formatViolations(violations)).toMatch(
      /POST \/handover\/\{conversationId\}\/messages 418: status 418 is not documented/,
    );
  });

  test('refuses a body that breaks the schema: a missing property, an extra one, a wrong type', () => {
    const check = (body: unknown) =>
      openapi.checkAnswer({
        method: 'POST',
        path: '/handover/ID-0/messages',
        status: 202,
        contentType: json,
        body,
      });
    expect(formatViolations(check({ ok: true, queued: true }))).toMatch(/conversationId/);
    expect(formatViolations(check({ ...queued, colour: 'red' }))).toMatch(/additional properties \(colour\)/);
    expect(formatViolations(check({ ...queued, ok: 'yes' }))).toMatch(/body\/ok/);
    const error = { ok: false, error: { code: 'X', message: 'x', details: { retry: 1 } } };
    expect(
      openapi.checkAnswer({
        method: 'GET',
        path: '/handover/ID-0',
        status: 404,
        contentType: json,
        body: error,
      }),
    ).not.toEqual([]);
  });

  test('refuses an undocumented content type, a missing one, a non-JSON body and an unknown route', () => {
    const answer = { method: 'POST', path: '/handover/ID-0/messages', status: 202, body: queued };
    expect(openapi.checkAnswer({ ...answer, contentType: 'text/html' })[0]?.message).toMatch(
      /text\/html is not documented/,
    );
    expect(openapi.checkAnswer({ ...answer, contentType: undefined })[0]?.message).toMatch(/no Content-Type/);
    expect(openapi.checkAnswer({ ...answer, contentType: json, body: '<html>' })[0]?.message).toMatch(
      /not JSON/,
    );
    expect(openapi.checkAnswer({ ...answer, path: '/nowhere', contentType: json })[0]?.message).toMatch(
      /no operation/,
    );
  });

  test('checks request bodies too', () => {
    const request = { method: 'POST', path: '/handover/ID-0/messages', contentType: 'application/json' };
    expect(openapi.checkRequest({ ...request, body: { text: 'Hi', sessionId: 's-1' } })).toEqual([]);
    expect(
      formatViolations(openapi.checkRequest({ ...request, body: { text: 'Hi', colour: 'red' } })),
    ).toMatch(/colour/);
  });

  test('reads the answers of the test API client', () => {
    const headers = new Headers({ 'content-type': json });
    expect(answerOf('GET', '/x', { status: 200, headers, body: undefined, text: 'plain' })).toEqual({
      method: 'GET',
      path: '/x',
      status: 200,
      contentType: json,
      body: 'plain',
    });
  });
});
