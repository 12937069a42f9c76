/**
 * `npm run security`: hostile inputs on every route of the local stack, CRC32-forged webhook bodies with a captured
 * signature, and a scan of the functions' logs for secrets and full phone numbers (lib/evidence/security.ts);
 * exits 1 when a check breaks. Flags (or environment variables):
 *
 *   --seed N        (SECURITY_SEED)       replay a run; default 1
 *   --per-route N   (SECURITY_PER_ROUTE)  hostile inputs per route; default 60
 *   --forgeries N   (SECURITY_FORGERIES)  forged webhook bodies; default 20
 */
import { parseArgs } from 'node:util';
import {
  DEFAULT_SECURITY_PROFILE,
  formatSecurityReport,
  runSecurity,
  type SecurityProfile,
} from '../lib/evidence/security';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    'per-route': { type: 'string' },
    forgeries: { type: 'string' },
  },
  strict: true,
});

function whole(flag: string | undefined, envName: string, fallback: number): number {
  const raw = flag ?? process.env[envName];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`${envName} must be a whole number ≥ 0`);
    process.exit(2);
  }
  return n;
}

const profile: SecurityProfile = {
  seed: whole(values.seed, 'SECURITY_SEED', DEFAULT_SECURITY_PROFILE.seed),
  perRoute: whole(values['per-route'], 'SECURITY_PER_ROUTE', DEFAULT_SECURITY_PROFILE.perRoute),
  forgeries: whole(values.forgeries, 'SECURITY_FORGERIES', DEFAULT_SECURITY_PROFILE.forgeries),
};

runSecurity(profile, { progress: true })
  .then((report) => {
    console.log(formatSecurityReport(report));
    process.exit(report.ok ? 0 : 1);
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
