/**
 * Issue 10 Evidence in `npm test`: the security run (lib/evidence/security.ts, `npm run security`) with a tiny count
 * — hostile inputs on every route, CRC32-forged webhook bodies with a captured signature, and the functions' logs at
 * DEBUG scanned for secrets and full phone numbers. Every count that must be 0 is 0, and the run really did its work.
 */
import { ROUTES, routeKey } from '../../functions/shared/catalogue';
import {
  PHONE_NUMBERS,
  SMALL_SECURITY_PROFILE,
  formatSecurityReport,
  runSecurity,
  scanLogs,
  type SecurityReport,
} from '../../lib/evidence/security';

let report: SecurityReport;

beforeAll(async () => {
  report = await runSecurity(SMALL_SECURITY_PROFILE);
}, 120_000);

test('no hostile input gets a 5xx, no forged body reaches Cognigy, no secret or full number is logged', () => {
  // On failure the whole report is the message.
  expect(report.ok ? 'ok' : formatSecurityReport(report)).toBe('ok');
  expect(report.serverErrors).toBe(0);
  expect(report.forgeries.reachedCognigy).toBe(0);
  expect(report.logs).toMatchObject({ secretsFound: 0, phoneNumbersFound: 0 });
});

test('the run did its work: every route tried, forgeries refused, genuine messages relayed, logs captured', () => {
  expect(report.routes.map((r) => r.route).sort()).toEqual(ROUTES.map(routeKey).sort());
  for (const route of report.routes) expect(route.tried).toBe(SMALL_SECURITY_PROFILE.perRoute);
  expect(report.forgeries).toEqual({
    tried: SMALL_SECURITY_PROFILE.forgeries,
    refused: SMALL_SECURITY_PROFILE.forgeries,
    reachedCognigy: 0,
    genuineRelayed: SMALL_SECURITY_PROFILE.forgeries,
  });
  // At DEBUG the functions log every invocation: a capture that saw nothing would make the zeros meaningless.
  expect(report.logs.lines).toBeGreaterThan(report.routes.length);
});

test('the log scan flags a secret and a full phone number, not a masked one', () => {
  const secret = 'sk-0123456789abcdef';
  const found = scanLogs(
    [
      `{"message":"ok","destination":"+6591****67"}`,
      `{"message":"leak","key":"${secret}"}`,
      `{"message":"leak","destination":"${PHONE_NUMBERS[0]}"}`,
    ],
    [secret],
  );
  expect(found).toMatchObject({ lines: 3, secretsFound: 1, phoneNumbersFound: 1 });
  expect(found.findings.join('\n')).not.toContain(secret);
});
