/**
 * The one error catalogue (functions/shared/error-catalogue.ts) against the code: every code a function or the
 * gateway can answer with is in it, with the status the code really answers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES, errorCodeSpec, errorCodesOf } from '../../../functions/shared/error-catalogue';
import { ERROR_DESCRIPTIONS } from '../../../functions/shared/error-descriptions';
import { SMS_ERROR_CODES } from '../../../functions/sms/error-codes';
import { HANDOVER_ERROR_CODES } from '../../../functions/handover/error-codes';

const root = path.resolve(__dirname, '../../..');

function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** `super('CODE', message, 401 …)` and `new GatewayAnswer(404, 'CODE', …)`: code and literal status. */
function thrownCodes(files: string[]): { code: string; status?: number; file: string }[] {
  const found: { code: string; status?: number; file: string }[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/super\(\s*'([A-Z][A-Z0-9_]+)',[^;]*?,\s*(\d{3})\b/gs)) {
      found.push({ code: m[1]!, status: Number(m[2]), file });
    }
    for (const m of text.matchAll(/GatewayAnswer\(\s*(\d{3}),\s*'([A-Z][A-Z0-9_]+)'/g)) {
      found.push({ code: m[2]!, status: Number(m[1]), file });
    }
    // The local console's refusals (lib/local/console/).
    for (const m of text.matchAll(
      /(?:sendError\(\s*res,|ConsoleActionError\()\s*(\d{3}),\s*'([A-Z][A-Z0-9_]+)'/g,
    )) {
      found.push({ code: m[2]!, status: Number(m[1]), file });
    }
    for (const m of text.matchAll(/errorBody\(\s*'([A-Z][A-Z0-9_]+)'/g)) {
      found.push({ code: m[1]!, file });
    }
  }
  return found;
}

test('every code answered by the functions and the gateways is in the catalogue with its status', () => {
  const files = [
    ...sources('functions'),
    path.join(root, 'lib/local/gateway.ts'),
    path.join(root, 'lib/local/console/server.ts'),
    path.join(root, 'lib/local/console/actions.ts'),
    path.join(root, 'lib/constructs/bridge-api.ts'),
  ];
  const found = thrownCodes(files);
  expect(found.length).toBeGreaterThan(20);
  const missing = found.filter(({ code }) => errorCodeSpec(code) === undefined);
  expect(missing).toEqual([]);
  // The local gateway answers INTERNAL_ERROR with 502 (API Gateway's own status for a failed integration).
  const wrongStatus = found.filter(
    ({ code, status }) =>
      status !== undefined &&
      status !== errorCodeSpec(code)!.status &&
      !(code === 'INTERNAL_ERROR' && status === 502),
  );
  expect(wrongStatus).toEqual([]);
});

test('the webhook refusals are catalogued for the webhook', () => {
  const webhook = Object.keys(errorCodesOf('webhook'));
  expect(webhook).toEqual(
    expect.arrayContaining(['SIGNATURE_INVALID', 'EVENT_STALE', 'TENANT_MISMATCH', 'EVENT_NOT_ACCEPTED']),
  );
  expect(ERROR_CODES.SIGNATURE_INVALID.status).toBe(401);
});

test('the domain views hold their codes only, in catalogue order', () => {
  expect(Object.keys(SMS_ERROR_CODES)).toContain('INVALID_DESTINATION');
  expect(Object.keys(SMS_ERROR_CODES)).not.toContain('HANDOVER_NOT_FOUND');
  expect(Object.keys(HANDOVER_ERROR_CODES)).toContain('HANDOVER_NOT_FOUND');
  expect(Object.keys(HANDOVER_ERROR_CODES)).not.toContain('INVALID_DESTINATION');
  const order = Object.keys(ERROR_CODES);
  const smsOrder = Object.keys(SMS_ERROR_CODES).map((code) => order.indexOf(code));
  expect(smsOrder).toEqual([...smsOrder].sort((a, b) => a - b));
});

test.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'NOPE'])(
  'a code that is not catalogued (%s) has no entry, even when it names an Object.prototype member',
  (code) => {
    expect(errorCodeSpec(code)).toBeUndefined();
  },
);

test('every catalogued code has exactly one description, and every description a catalogued code', () => {
  expect(Object.keys(ERROR_DESCRIPTIONS).sort()).toEqual(Object.keys(ERROR_CODES).sort());
  const blank = Object.entries(ERROR_DESCRIPTIONS).filter(([, text]) => text.trim().length < 10);
  expect(blank).toEqual([]);
  // The source names each code once (an object literal keeps the last of two equal keys silently).
  const source = readFileSync(path.join(root, 'functions/shared/error-descriptions.ts'), 'utf8');
  const named = [...source.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]);
  expect(named).toHaveLength(new Set(named).size);
  expect(named.length).toBe(Object.keys(ERROR_CODES).length);
});

test('no function imports the descriptions: they are documentation, not part of any bundle', () => {
  const importers = sources('functions').filter((file) =>
    /from '[^']*error-descriptions'/.test(readFileSync(file, 'utf8')),
  );
  expect(importers).toEqual([]);
});
