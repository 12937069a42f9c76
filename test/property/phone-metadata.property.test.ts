/**
 * The pruned phone metadata (functions/sms/phone-metadata.json, lib/phone-metadata.ts) answers parsing and
 * validation exactly as libphonenumber-js's full min metadata does. The reference is `libphonenumber-js/min` itself,
 * what the SMS validation used before (and what the 8x8 simulator still uses).
 *
 * Inputs: the library's example mobile number of every country (examples.mobile.json) as given, with the trunk
 * prefix, in E.164, as an international number without '+', after an IDD prefix, and with every digit dropped or
 * changed; then generated digit strings of every length with the same prefixes and with separators, for every
 * supported country. Besides the library's answers, normaliseDestination itself is compared with the same function
 * loaded over the full metadata. A last test watches which metadata fields parsing reads at all.
 */
import fc from 'fast-check';
import {
  getCountries,
  isSupportedCountry,
  parsePhoneNumberFromString as parseCore,
  type CountryCode,
  type MetadataJson,
  type PhoneNumber,
} from 'libphonenumber-js/core';
import examplesJson from 'libphonenumber-js/examples.mobile.json';
import fullJson from 'libphonenumber-js/metadata.min.json';
import {
  isSupportedCountry as isSupportedMin,
  parsePhoneNumberFromString as parseMin,
} from 'libphonenumber-js/min';
import prunedJson from '../../functions/sms/phone-metadata.json';
import { normaliseDestination } from '../../functions/sms/normalise';

const full = fullJson as unknown as MetadataJson;
const pruned = prunedJson as unknown as MetadataJson;
const examples = examplesJson as unknown as Record<string, string>;
const countries = getCountries(full);
type Plan = unknown[];

/** Everything the SMS code reads from a parse (and a little more: type, possible countries, extension). */
function view(parse: () => PhoneNumber | undefined) {
  let number: PhoneNumber | undefined;
  try {
    number = parse();
  } catch (error) {
    return { threw: String(error) };
  }
  if (!number) return undefined;
  return {
    number: number.number,
    country: number.country,
    countryCallingCode: number.countryCallingCode,
    nationalNumber: number.nationalNumber,
    ext: number.ext,
    valid: number.isValid(),
    possible: number.isPossible(),
    type: number.getType(),
    possibleCountries: number.getPossibleCountries(),
  };
}

/** Parses `text` (with `country` as the default country, if given) with both metadata sets; they must agree. */
function expectSameParse(text: string, country?: CountryCode) {
  const reference = view(() => (country ? parseMin(text, country) : parseMin(text)));
  const actual = view(() => (country ? parseCore(text, country, pruned) : parseCore(text, pruned)));
  expect({ text, country, result: actual }).toEqual({ text, country, result: reference });
  return reference;
}

const callingCode = (country: CountryCode) => (full.countries[country] as unknown as Plan)[0] as string;
const nationalPrefix = (country: CountryCode) => {
  const prefix = (full.countries[country] as unknown as Plan)[5];
  return typeof prefix === 'string' ? prefix : undefined;
};

/** Ways a number of `country` is written: national, with trunk prefix, E.164, without '+', after an IDD prefix. */
function writings(country: CountryCode, digits: string): { text: string; country?: CountryCode }[] {
  const cc = callingCode(country);
  const trunk = nationalPrefix(country);
  return [
    { text: digits, country },
    ...(trunk ? [{ text: `${trunk}${digits}`, country }] : []),
    { text: `+${cc}${digits}` },
    { text: `+${cc}${digits}`, country },
    { text: `${cc}${digits}`, country },
    { text: `+${cc}${trunk ?? ''}${digits}` },
    { text: `00${cc}${digits}`, country },
    { text: `011${cc}${digits}`, country },
  ];
}

test('every supported country is supported with both metadata sets, and nothing else is', () => {
  expect(Object.keys(pruned.countries)).toEqual(Object.keys(full.countries));
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  for (const a of letters) {
    for (const b of letters)
      expect(isSupportedCountry((a + b) as CountryCode, pruned)).toBe(isSupportedMin(a + b));
  }
  for (const code of ['001', '', 'gb', 'toString', '__proto__', 'constructor'])
    expect(isSupportedCountry(code as CountryCode, pruned)).toBe(isSupportedMin(code));
});

test('every country’s example mobile number parses alike in all its writings, and is valid', () => {
  const exampleCountries = Object.keys(examples) as CountryCode[];
  expect(exampleCountries.length).toBeGreaterThan(240);
  let valid = 0;
  for (const country of exampleCountries) {
    if (!isSupportedMin(country)) continue;
    const example = examples[country]!;
    const national = expectSameParse(example, country);
    if (national && 'valid' in national && national.valid) valid += 1;
    for (const writing of writings(country, example)) expectSameParse(writing.text, writing.country);
  }
  // The examples are real numbers: nearly all must be valid, else the comparison above compared only failures.
  expect(valid).toBeGreaterThan(exampleCountries.length * 0.95);
});

test('every example with one digit dropped, added or changed parses alike', () => {
  for (const [country, example] of Object.entries(examples) as [CountryCode, string][]) {
    if (!isSupportedMin(country)) continue;
    const variants = new Set<string>([`${example}0`, `${example}9`]);
    for (let i = 0; i < example.length; i++) {
      variants.add(example.slice(0, i) + example.slice(i + 1));
      for (const step of [1, 5]) {
        const digit = String((Number(example[i]) + step) % 10);
        variants.add(example.slice(0, i) + digit + example.slice(i + 1));
      }
    }
    for (const variant of variants) {
      expectSameParse(variant, country);
      expectSameParse(`+${callingCode(country)}${variant}`);
    }
  }
});

const country = fc.constantFrom(...countries);
const digits = fc.stringMatching(/^[0-9]{1,17}$/);
/** Digits from the start of a real number, then random ones: numbers near the valid ranges, not only noise. */
const nearExample = fc
  .tuple(fc.constantFrom(...(Object.entries(examples) as [CountryCode, string][])), fc.nat(), digits)
  .map(([[c, example], keep, tail]) => ({
    country: c,
    digits: (example.slice(0, keep % (example.length + 1)) + tail).slice(0, 17),
  }));
const numberOfCountry = fc.oneof(fc.record({ country, digits }), nearExample);

test('generated numbers parse alike in every writing, for every country', () => {
  fc.assert(
    fc.property(numberOfCountry, ({ country: c, digits: d }) => {
      if (!isSupportedMin(c)) return;
      for (const writing of writings(c, d)) expectSameParse(writing.text, writing.country);
    }),
    { numRuns: 1500 },
  );
});

test('text with separators, letters and stray signs parses alike', () => {
  const text = fc.string({ unit: fc.constantFrom(...'+0123456789 -.()x#*;ext='.split('')), maxLength: 24 });
  fc.assert(
    fc.property(text, fc.option(country, { nil: undefined }), (t, c) => {
      expectSameParse(t, c);
    }),
    { numRuns: 3000 },
  );
});

describe('normaliseDestination over the pruned metadata and over the full one', () => {
  let reference: typeof normaliseDestination;
  let referenceMetadata: unknown;

  beforeAll(async () => {
    await jest.isolateModulesAsync(async () => {
      jest.doMock('../../functions/sms/phone-metadata.json', () => fullJson);
      ({ normaliseDestination: reference } = await import('../../functions/sms/normalise'));
      referenceMetadata = (await import('../../functions/sms/phone-metadata.json')).default;
    });
  });

  test('the reference is the same code loaded over the full min metadata', () => {
    expect(reference).not.toBe(normaliseDestination);
    expect(referenceMetadata).toBe(fullJson);
    expect(Array.isArray((referenceMetadata as { countries: { GB: Plan } }).countries.GB[4])).toBe(true);
  });

  test('gives the same answer for every country’s numbers in every writing', () => {
    const separators = fc.array(fc.tuple(fc.nat(), fc.constantFrom(' ', '-', '.', '(', ')')), {
      maxLength: 3,
    });
    fc.assert(
      fc.property(numberOfCountry, separators, ({ country: c, digits: d }, inserts) => {
        if (!isSupportedMin(c)) return;
        for (const writing of writings(c, d)) {
          let typed = writing.text;
          for (const [at, sep] of inserts) {
            const i = at % (typed.length + 1);
            typed = typed.slice(0, i) + sep + typed.slice(i);
          }
          expect(normaliseDestination(typed, c)).toEqual(reference(typed, c));
          expect(normaliseDestination(typed)).toEqual(reference(typed));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

test('parsing and validation never read a pruned field (watched on the full metadata)', () => {
  const read = new Set<number>();
  const watch = (record: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(record).map(([key, plan]) => [
        key,
        new Proxy(plan as Plan, {
          get(target, property, receiver) {
            if (typeof property === 'string' && /^\d+$/.test(property)) read.add(Number(property));
            return Reflect.get(target, property, receiver) as unknown;
          },
        }),
      ]),
    );
  const watched = {
    ...full,
    countries: watch(full.countries),
    nonGeographic: watch(full.nonGeographic),
  } as MetadataJson;

  const use = (number: PhoneNumber | undefined) => {
    if (!number) return;
    void [number.isValid(), number.isPossible(), number.number, number.country];
  };
  for (const [c, example] of Object.entries(examples) as [CountryCode, string][]) {
    if (!isSupportedCountry(c, watched)) continue;
    for (const writing of writings(c, example)) {
      use(
        writing.country
          ? parseCore(writing.text, writing.country, watched)
          : parseCore(writing.text, watched),
      );
    }
    use(parseCore(example.slice(1), c, watched));
    use(parseCore(`${example}12`, c, watched));
  }
  fc.assert(
    fc.property(numberOfCountry, ({ country: c, digits: d }) => {
      use(parseCore(d, c, watched));
      use(parseCore(`+${d}`, watched));
    }),
    { numRuns: 2000 },
  );
  const prunedFields = [4, 6, 9, 12, 13];
  expect([...read].filter((index) => prunedFields.includes(index))).toEqual([]);
  // The fields parsing needs were read, so the watch works...
  for (const index of [0, 1, 2, 3, 5, 7, 8, 10, 11]) expect(read).toContain(index);
  // ...and formatting, which the SMS code never does, does read the pruned ones.
  const gb = parseCore(`+44${examples.GB!}`, watched)!;
  void [gb.formatNational(), gb.formatInternational(), gb.format('IDD', { fromCountry: 'US' })];
  gb.setExt('12');
  void gb.formatNational();
  // ([6] is 0 in every plan of the min metadata already; national formats carry their own rule.)
  expect([...read].filter((index) => prunedFields.includes(index))).toEqual(
    expect.arrayContaining([4, 9, 12, 13]),
  );
});
