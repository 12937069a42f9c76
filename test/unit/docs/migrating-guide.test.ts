/**
 * docs/migrating.md (issue 11 item 5) must name every field of Cognigy's 8x8 Send SMS node by its key, in the
 * guide's field-by-field table, and every field of the built-in 8x8 handover provider. The keys are those of
 * Cognigy/Extensions `extensions/8x8/src/nodes/SMS/sendSMS.ts` (node `sendSMS`, connection type `sms8x8`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..', '..', '..');
const guide = readFileSync(path.join(root, 'docs', 'migrating.md'), 'utf8');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

/** Cognigy's Send SMS node: its form fields, in the node's order, then its two child exits. */
const SEND_SMS_FIELD_KEYS = [
  'connection',
  'destination',
  'text',
  'source',
  'country',
  'clientMessageId',
  'encoding',
  'scheduled',
  'expiry',
  'dlrCallbackUrl',
  'clientIp',
  'track',
  'storeLocation',
  'inputKey',
  'contextKey',
] as const;
const SEND_SMS_EXITS = ['onSuccessSMS', 'onErrorSMS'] as const;
/** The `sms8x8` connection's fields and the node's defaults a flow relies on. */
const SEND_SMS_CONNECTION_FIELDS = ['apiKey', 'subAccountId'] as const;
const SEND_SMS_DEFAULTS = ['sms8x8', 'AUTO', 'context'] as const;

/** The built-in provider's and its node's fields (Cognigy documentation, reference/cognigy.md §3). */
const HANDOVER_PROVIDER_FIELDS = [
  'Base URL',
  'API Key',
  '8x8-Tenant',
  '8x8 Channel Id',
  '8x8 Queue Id',
  '8x8 JSON properties',
  'Handover Accepted Message',
  'Cancel Intent',
  'Cancel Button Text',
  'Send Queue Event',
  'Send Active Event',
] as const;
const STATUS_WORDS = ['queue', 'active', 'completed', 'cancelled', 'error'] as const;

/** The rows of the first markdown table after a heading. */
function firstTableAfter(heading: string): string[] {
  const start = guide.indexOf(heading);
  expect(start).toBeGreaterThanOrEqual(0);
  const lines = guide.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith('|')) break;
    rows.push(line);
  }
  return rows;
}

describe('docs/migrating.md', () => {
  const smsTable = firstTableAfter('### Field by field');
  /** First cell of each row: where the guide names the Cognigy field. */
  const firstCells = smsTable.map((row) => row.split('|')[1] ?? '');

  test.each([...SEND_SMS_FIELD_KEYS, ...SEND_SMS_EXITS])(
    "names the Send SMS node's %s in the first column of the field table",
    (key) => {
      expect(firstCells.filter((cell) => cell.includes(`\`${key}\``))).toHaveLength(1);
    },
  );

  test('the field table has one row per field and exit, nothing else', () => {
    expect(smsTable).toHaveLength(2 + SEND_SMS_FIELD_KEYS.length + SEND_SMS_EXITS.length);
  });

  test.each([...SEND_SMS_CONNECTION_FIELDS, ...SEND_SMS_DEFAULTS])('mentions `%s`', (word) => {
    expect(guide).toContain(`\`${word}\``);
  });

  test.each(HANDOVER_PROVIDER_FIELDS)('maps the built-in handover provider field "%s"', (field) => {
    expect(guide).toContain(`**${field}**`);
  });

  test('maps every status word from input.handover.status to input.data.handover.status', () => {
    const rows = firstTableAfter('### Status words');
    for (const word of STATUS_WORDS) {
      expect(rows.some((row) => row.startsWith(`| \`${word}\``) && row.includes(`| \`${word}\` `))).toBe(
        true,
      );
    }
  });

  test.each([
    'Send SMS',
    'Send SMS Batch',
    'Get SMS Status',
    'Start 8x8 Handover',
    'Relay To Agent',
    'End Handover',
    'Get Handover',
  ])('names the extension node %s', (node) => {
    expect(guide).toContain(`_${node}_`);
  });

  test('the README links to it, and its links into the README resolve to headings', () => {
    expect(readme).toContain('](docs/migrating.md)');
    const anchors = [...guide.matchAll(/\]\(\.\.\/README\.md#([^)]+)\)/g)].map((m) => m[1] ?? '');
    expect(anchors.length).toBeGreaterThan(2);
    const slugs = new Set(
      [...readme.matchAll(/^#{2,4} (.+)$/gm)].map((m) =>
        (m[1] ?? '')
          .toLowerCase()
          .replace(/[^\p{L}\p{N} _-]/gu, '')
          .replace(/ /g, '-'),
      ),
    );
    for (const anchor of anchors) expect([anchor, slugs.has(anchor)]).toEqual([anchor, true]);
  });
});
