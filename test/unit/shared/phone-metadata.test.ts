/**
 * The pruned phone metadata the SMS functions bundle (functions/sms/phone-metadata.json, lib/phone-metadata.ts):
 * it is exactly what the installed libphonenumber-js gives (so an upgrade cannot leave it stale), it differs from
 * the library's min metadata only in the formatting fields, and it is what the SMS code bundles instead of the
 * library's own metadata. Equivalence of parsing and validation: test/property/phone-metadata.property.test.ts.
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { MetadataJson } from 'libphonenumber-js/core';
import fullJson from 'libphonenumber-js/metadata.min.json';
import committedJson from '../../../functions/sms/phone-metadata.json';
import {
  FORMATTING_ONLY_FIELDS,
  KEPT_PLAN_LENGTH,
  generatePhoneMetadata,
  phoneMetadataFile,
  prunePhoneMetadata,
} from '../../../lib/phone-metadata';
import { projectRoot } from '../../../lib/paths';

const full = fullJson as unknown as MetadataJson;
const committed = committedJson as unknown as MetadataJson;
type Plan = unknown[];

test('the committed file is exactly what bin/phone-metadata.ts makes from the installed libphonenumber-js', () => {
  const regenerated = generatePhoneMetadata();
  const onDisk = readFileSync(phoneMetadataFile(), 'utf8');
  // On a mismatch (libphonenumber-js upgraded?): run `npx tsx bin/phone-metadata.ts` and commit the file.
  expect(JSON.parse(onDisk)).toEqual(JSON.parse(regenerated));
  expect(onDisk).toBe(regenerated);
});

test('the pruned metadata keeps every country, calling code and parsing field of the min metadata', () => {
  expect(committed.version).toBe(full.version);
  expect(committed.country_calling_codes).toEqual(full.country_calling_codes);
  expect(Object.keys(committed.countries)).toEqual(Object.keys(full.countries));
  expect(Object.keys(committed.nonGeographic)).toEqual(Object.keys(full.nonGeographic));
  const pairs = [
    ...Object.entries(full.countries).map(([key, plan]) => [plan, committed.countries[key as 'GB']] as const),
    ...Object.entries(full.nonGeographic).map(([key, plan]) => [plan, committed.nonGeographic[key]] as const),
  ];
  expect(pairs.length).toBeGreaterThan(240);
  for (const [fullPlan, prunedPlan] of pairs as unknown as [Plan, Plan][]) {
    expect(prunedPlan.length).toBe(Math.min(fullPlan.length, KEPT_PLAN_LENGTH));
    prunedPlan.forEach((value, index) => {
      if ((FORMATTING_ONLY_FIELDS as readonly number[]).includes(index)) expect(value).toBe(0);
      else expect(value).toEqual(fullPlan[index]);
    });
  }
});

test('the pruning removes what it claims: formats everywhere, and most of the bytes', () => {
  const plans = [...Object.values(full.countries), ...Object.values(full.nonGeographic)] as unknown as Plan[];
  // Formats are present in the library's metadata (else there would be nothing to prune and this test is stale).
  expect(plans.filter((plan) => Array.isArray(plan[4])).length).toBeGreaterThan(200);
  const prunedPlans = [
    ...Object.values(committed.countries),
    ...Object.values(committed.nonGeographic),
  ] as unknown as Plan[];
  expect(prunedPlans.filter((plan) => plan[4] !== 0 && plan[4] !== undefined)).toEqual([]);
  expect(JSON.stringify(committed).length).toBeLessThan(JSON.stringify(full).length * 0.45);
});

test('a metadata of another shape is refused rather than pruned blindly', () => {
  expect(() => prunePhoneMetadata({ ...full, version: 5 })).toThrow(/changed shape/);
  expect(() => prunePhoneMetadata({ ...full, extra: {} } as unknown as MetadataJson)).toThrow(
    /changed shape/,
  );
});

test('the SMS validation bundles the pruned metadata and none of libphonenumber-js’s own', async () => {
  const result = await build({
    entryPoints: [path.join(projectRoot(), 'functions', 'sms', 'normalise.ts')],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    mainFields: ['module', 'main'],
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: projectRoot(),
  });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs).toContain('functions/sms/phone-metadata.json');
  expect(inputs.filter((input) => /libphonenumber-js\/(metadata|examples)/.test(input))).toEqual([]);
  expect(inputs.some((input) => input.includes('libphonenumber-js/es6/parse'))).toBe(true);
});
