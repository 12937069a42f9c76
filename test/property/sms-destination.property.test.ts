/**
 * Destination validation against 8x8's own pattern (SmsRequest.destination in lib/simulators/contract/8x8/sms_api.json):
 * `^\+{0,1}[1-9]{1}[0-9]{6,14}$`. Without `country`, whatever 8x8 accepts must be accepted (and sent as E.164 with
 * `+`), and whatever it refuses must be refused with a 400-class validation error, both by the destination rule
 * and by the whole POST /sms validation.
 *
 * One documented difference: spaces, dashes, dots and parentheses are removed before the check (a number typed as
 * "+65 9123-4567" reaches 8x8 as +6591234567), so the negative side is "refused by 8x8 even after that clean-up".
 */
import fc from 'fast-check';
import { SmsValidationError } from '../../functions/sms/error-codes';
import {
  EIGHT_BY_EIGHT_DESTINATION,
  normaliseDestination,
  normaliseSmsRequest,
} from '../../functions/sms/normalise';

/** The pattern as 8x8 publishes it, written out here so a change of the bridge's constant cannot hide a drift. */
const EIGHT_BY_EIGHT_PATTERN = /^\+{0,1}[1-9]{1}[0-9]{6,14}$/;
/** Characters the bridge ignores in a destination (schema description of `destination`). */
const SEPARATORS = /[\s\-.()]/g;
const NOW = new Date('2030-01-01T00:00:00Z');

const digitsOf = (s: string) => s.replace(/^\+/, '');

test('the bridge uses exactly 8x8’s published pattern', () => {
  expect(EIGHT_BY_EIGHT_DESTINATION.source).toBe(EIGHT_BY_EIGHT_PATTERN.source);
});

test('every destination 8x8 accepts is accepted without country and sent as E.164 with +', () => {
  fc.assert(
    fc.property(fc.stringMatching(EIGHT_BY_EIGHT_PATTERN), (destination) => {
      const result = normaliseDestination(destination);
      expect(result).toEqual({ ok: true, e164: `+${digitsOf(destination)}` });
      const sms = normaliseSmsRequest({ destination, text: 'Hello' }, NOW);
      expect(sms.request.destination).toBe(`+${digitsOf(destination)}`);
    }),
    { numRuns: 500 },
  );
});

/** Strings of every kind: ASCII, digits-heavy near misses, and full Unicode (other digits, spaces, signs). */
const candidate = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 24 }),
  fc.string({ unit: fc.constantFrom(...'+0123456789 -.()x#*'.split('')), maxLength: 24 }),
  fc.stringMatching(/^\+{0,2}[0-9]{0,20}$/),
  fc.stringMatching(EIGHT_BY_EIGHT_PATTERN).map((s) => `${s}0`), // one digit too many, at most
  fc.stringMatching(EIGHT_BY_EIGHT_PATTERN).map((s) => s.replace(/^(\+?)[1-9]/, '$10')), // leading 0
);

test('every destination 8x8 refuses is refused without country', () => {
  fc.assert(
    fc.property(
      candidate.filter((s) => !EIGHT_BY_EIGHT_PATTERN.test(s.replace(SEPARATORS, ''))),
      (destination) => {
        const result = normaliseDestination(destination);
        expect(result.ok).toBe(false);
        let thrown: unknown;
        try {
          normaliseSmsRequest({ destination, text: 'Hello' }, NOW);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(SmsValidationError);
        expect((thrown as SmsValidationError).statusCode).toBe(400);
        expect((thrown as SmsValidationError).issues.map((i) => i.path)).toContain('destination');
      },
    ),
    { numRuns: 1000 },
  );
});

test('separators in an accepted number are ignored, never changing the number', () => {
  const separator = fc.constantFrom(' ', '-', '.', '(', ')', '\t');
  fc.assert(
    fc.property(
      fc.stringMatching(EIGHT_BY_EIGHT_PATTERN),
      fc.array(fc.tuple(fc.nat(), separator), { maxLength: 4 }),
      (destination, inserts) => {
        let typed = destination;
        for (const [at, sep] of inserts) {
          const i = at % (typed.length + 1);
          typed = typed.slice(0, i) + sep + typed.slice(i);
        }
        expect(normaliseDestination(typed)).toEqual({ ok: true, e164: `+${digitsOf(destination)}` });
      },
    ),
    { numRuns: 300 },
  );
});
