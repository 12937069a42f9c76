/**
 * `npx tsx bin/phone-metadata.ts`: writes functions/sms/phone-metadata.json, libphonenumber-js's min metadata
 * without the fields only formatting reads (see lib/phone-metadata.ts for what is pruned and why that is safe).
 * Run it after upgrading libphonenumber-js; test/unit/phone-metadata.test.ts fails until then.
 */
import { writeFileSync } from 'node:fs';
import { generatePhoneMetadata, phoneMetadataFile } from '../lib/phone-metadata';

const target = phoneMetadataFile();
const text = generatePhoneMetadata();
writeFileSync(target, text);
console.log(`${target}: ${text.length} bytes`);
