/**
 * The phone number metadata the SMS functions bundle (functions/sms/phone-metadata.json): libphonenumber-js's
 * "min" metadata (metadata.min.json, format version 4) without what only *formatting* reads. The functions parse a
 * national number, check isValid()/isPossible() and take .number (E.164); they never format a number, so the
 * formatting rules (about 50 KB of the 80 KB) are dead weight in every Lambda bundle.
 *
 * Written by `npx tsx bin/phone-metadata.ts`; test/unit/phone-metadata.test.ts fails when the committed file is not
 * what the installed libphonenumber-js gives, so an upgrade of the library cannot leave it stale.
 *
 * Why the pruned fields are safe to drop. libphonenumber-js reads a numbering plan array (one per country and per
 * non-geographic calling code) only through the accessors of its NumberingPlan class (source/metadata.js); no other
 * module indexes the arrays. The fields pruned here and their only readers:
 *   [4]  formats                                  formats() → format(), AsYouType, findNumbers' leniency
 *   [6]  national prefix formatting rule          nationalPrefixFormattingRule() → the same formatting code
 *   [9]  national prefix optional when formatting → format(), AsYouType, findNumbers' leniency
 *   [12] default IDD prefix                       defaultIDDPrefix() → getIddPrefix() → format('IDD')
 *   [13] extension prefix (" ext. ")              ext() → format() of an extension, getExtPrefix()
 * Parsing, isValid(), isPossible(), .country and .number read the calling code [0], IDD prefix [1], national number
 * pattern [2], possible lengths [3], national prefix [5], national prefix for parsing [7] and its transform rule
 * [8], leading digits [10] and the number types [11], all kept as they are, as are `country_calling_codes` and
 * `version`. A pruned field becomes 0, the value the library itself writes for an absent field, so every index
 * keeps its meaning; [12] and [13], the last two, are cut off instead (a missing trailing field reads as
 * undefined, which the library treats as absent too).
 * test/property/phone-metadata.property.test.ts checks the result against the full min metadata.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { MetadataJson } from 'libphonenumber-js/core';
import { projectRoot } from './paths';

/** Indices of a numbering plan array that only formatting reads; set to 0 (the library's "absent"). */
export const FORMATTING_ONLY_FIELDS = [4, 6, 9] as const;
/** Numbering plan arrays are cut to this length: [12] and [13] are read by formatting only. */
export const KEPT_PLAN_LENGTH = 12;

type Plan = unknown[];

export function pruneNumberingPlan(plan: Plan): Plan {
  const pruned = plan.slice(0, KEPT_PLAN_LENGTH);
  for (const index of FORMATTING_ONLY_FIELDS) if (index < pruned.length) pruned[index] = 0;
  return pruned;
}

/** The min metadata without formatting-only fields. Throws on a metadata shape this pruning was not written for. */
export function prunePhoneMetadata(full: MetadataJson): MetadataJson {
  const keys = Object.keys(full).sort().join(',');
  if (full.version !== 4 || keys !== 'countries,country_calling_codes,nonGeographic,version') {
    throw new Error(
      `libphonenumber-js metadata has changed shape (version ${String(full.version)}, keys ${keys}); ` +
        'check which fields parsing reads before pruning it',
    );
  }
  const plans = (record: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(record).map(([key, plan]) => [key, pruneNumberingPlan(plan as Plan)]));
  return {
    version: full.version,
    country_calling_codes: full.country_calling_codes,
    countries: plans(full.countries),
    nonGeographic: plans(full.nonGeographic),
  } as MetadataJson;
}

/**
 * The file's text: JSON with one entry per line under each top-level object, so an upgrade shows as a diff per
 * country. (Listed in .prettierignore: this is the exact form the test compares.)
 */
export function renderPhoneMetadata(metadata: MetadataJson): string {
  const block = (record: Record<string, unknown>) =>
    `{\n${Object.entries(record)
      .map(([key, value]) => `    ${JSON.stringify(key)}: ${JSON.stringify(value)}`)
      .join(',\n')}\n  }`;
  return (
    '{\n' +
    `  "version": ${JSON.stringify(metadata.version)},\n` +
    `  "country_calling_codes": ${block(metadata.country_calling_codes)},\n` +
    `  "countries": ${block(metadata.countries)},\n` +
    `  "nonGeographic": ${block(metadata.nonGeographic)}\n` +
    '}\n'
  );
}

/** The committed file the SMS functions import. */
export function phoneMetadataFile(root: string = projectRoot()): string {
  return path.join(root, 'functions', 'sms', 'phone-metadata.json');
}

/** metadata.min.json of the installed libphonenumber-js. */
export function installedMinMetadata(): MetadataJson {
  const file = createRequire(path.join(projectRoot(), 'package.json')).resolve(
    'libphonenumber-js/metadata.min.json',
  );
  return JSON.parse(readFileSync(file, 'utf8')) as MetadataJson;
}

/** What `bin/phone-metadata.ts` writes. */
export function generatePhoneMetadata(): string {
  return renderPhoneMetadata(prunePhoneMetadata(installedMinMetadata()));
}
