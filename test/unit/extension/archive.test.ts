/**
 * The Cognigy Extension archive (issue 11 item 1): built by the function behind `npm run extension`, unpacked,
 * loaded with Node's `require` as Cognigy loads it, and every descriptor checked: unique types, field types that
 * Cognigy knows, forms and sections that point at real fields, exits present as child nodes, the connection, and
 * the Send SMS node's fields against Cognigy's own 8x8 Send SMS node.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import type { INodeDescriptor } from '@cognigy/extension-tools';
import { EXTENSION_ARCHIVE_ENTRIES } from '../../../lib/extension';
import { projectRoot } from '../../../lib/paths';
import { loadBuiltExtension, type LoadedExtension } from '../../helpers/extension';

let extension: LoadedExtension;

beforeAll(() => {
  extension = loadBuiltExtension();
}, 120_000);

afterAll(() => extension?.cleanup());

/** The field types extension-tools 0.14 declares (its `nodeFieldTypes`, which the package does not export). */
function cognigyFieldTypes(): Set<string> {
  const declarations = readFileSync(
    path.join(projectRoot(), 'node_modules/@cognigy/extension-tools/build/interfaces/descriptor.d.ts'),
    'utf8',
  );
  const list = /nodeFieldTypes: readonly \[([^\]]+)\]/.exec(declarations)?.[1];
  if (!list) throw new Error('extension-tools no longer declares nodeFieldTypes');
  return new Set([...list.matchAll(/"([^"]+)"/g)].map((m) => m[1]!));
}

const nodes = () => extension.module.nodes;
const parents = () => nodes().filter((n) => !n.parentType);
const node = (type: string) => {
  const found = nodes().find((n) => n.type === type);
  if (!found) throw new Error(`no node ${type}`);
  return found;
};
const label = (n: INodeDescriptor) =>
  typeof n.defaultLabel === 'string' ? n.defaultLabel : n.defaultLabel.default;

test('the archive holds build/, package.json, package-lock.json, icon.png and README.md at its top, nothing else', () => {
  const top = new Set(extension.entries.map((entry) => entry.split('/')[0]));
  expect([...top].sort()).toEqual([...EXTENSION_ARCHIVE_ENTRIES].sort());
  expect(extension.entries).toContain('build/module.js');
  expect(extension.entries.filter((e) => e.startsWith('build/') && e.endsWith('.ts'))).toEqual([]);
});

test('package.json names the compiled module and the one dependency, pinned; the lock file agrees', () => {
  expect(extension.packageJson.main).toBe('build/module.js');
  expect(extension.packageJson.dependencies).toEqual({ '@cognigy/extension-tools': '0.14.0' });
  const lock = JSON.parse(readFileSync(path.join(extension.dir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; integrity?: string }>;
  };
  expect(lock.packages['node_modules/@cognigy/extension-tools']).toMatchObject({
    version: '0.14.0',
    integrity: expect.stringMatching(/^sha512-/),
  });
});

test('the compiled code needs nothing but Node built-ins and @cognigy/extension-tools', () => {
  const files = readdirSync(path.join(extension.dir, 'build'), { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.js'),
  );
  const required = new Set(
    files.flatMap((file) =>
      [
        ...readFileSync(path.join(extension.dir, 'build', file), 'utf8').matchAll(/require\("([^"]+)"\)/g),
      ].map((m) => m[1]!),
    ),
  );
  const external = [...required].filter((r) => !r.startsWith('.') && !r.startsWith('node:'));
  expect(external).toEqual(['@cognigy/extension-tools']);
});

test('icon.png is a real 64×64 RGBA PNG', () => {
  const png = readFileSync(path.join(extension.dir, 'icon.png'));
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  expect([png.readUInt32BE(16), png.readUInt32BE(20), png[24], png[25]]).toEqual([64, 64, 8, 6]);
  // The image data inflates to 64 rows of a filter byte and 64 RGBA pixels.
  const idatLength = png.readUInt32BE(33);
  expect(png.subarray(37, 41).toString('ascii')).toBe('IDAT');
  expect(inflateSync(png.subarray(41, 41 + idatLength)).length).toBe(64 * (1 + 64 * 4));
});

test('the extension offers the seven nodes, labelled, with one "8x8 Bridge" connection (baseUrl, apiKey)', () => {
  expect(extension.module.options.label).toBe('8x8 Bridge');
  expect(parents().map(label)).toEqual([
    'Send SMS',
    'Send SMS Batch',
    'Get SMS Status',
    'Start 8x8 Handover',
    'Relay To Agent',
    'End Handover',
    'Get Handover',
  ]);
  expect(extension.module.connections).toEqual([
    {
      type: 'eightByEightBridge',
      label: '8x8 Bridge',
      fields: [{ fieldName: 'baseUrl' }, { fieldName: 'apiKey' }],
    },
  ]);
});

test('node types are unique', () => {
  const types = nodes().map((n) => n.type);
  expect(new Set(types).size).toBe(types.length);
});

test('every field has a type Cognigy knows, a unique key, and a default its options allow', () => {
  const known = cognigyFieldTypes();
  expect(known.has('cognigyText')).toBe(true);
  for (const n of parents()) {
    const fields = n.fields ?? [];
    const keys = fields.map((f) => f.key);
    expect({ node: n.type, duplicates: keys.filter((k, i) => keys.indexOf(k) !== i) }).toEqual({
      node: n.type,
      duplicates: [],
    });
    for (const field of fields) {
      expect({ node: n.type, key: field.key, type: known.has(field.type) }).toEqual({
        node: n.type,
        key: field.key,
        type: true,
      });
      const options = (field.params as { options?: { value: unknown }[] } | undefined)?.options;
      if (field.type === 'select') {
        expect(options?.length).toBeGreaterThan(0);
        if (field.defaultValue !== undefined)
          expect(options!.map((o) => o.value)).toContain(field.defaultValue);
      }
      if (field.condition && 'key' in field.condition && field.condition.key)
        expect(keys).toContain(field.condition.key);
    }
  }
});

test('forms and sections point at fields and sections that exist; every field is reachable from the form', () => {
  for (const n of parents()) {
    const keys = new Set((n.fields ?? []).map((f) => f.key));
    const sections = new Map((n.sections ?? []).map((s) => [s.key, s]));
    for (const section of sections.values()) for (const f of section.fields) expect(keys).toContain(f);
    const shown = new Set<string>();
    for (const element of n.form ?? []) {
      if (element.type === 'field') {
        expect(keys).toContain(element.key);
        shown.add(element.key);
      } else {
        expect(sections.has(element.key)).toBe(true);
        sections.get(element.key)!.fields.forEach((f) => shown.add(f));
      }
    }
    expect({ node: n.type, hidden: [...keys].filter((k) => !shown.has(k)) }).toEqual({
      node: n.type,
      hidden: [],
    });
  }
});

test('every node has a function, the connection field, storage fields, and exits that exist as its child nodes', () => {
  for (const n of parents()) {
    expect(typeof n.function).toBe('function');
    const connection = (n.fields ?? []).find((f) => f.type === 'connection');
    expect(connection?.params).toEqual({ connectionType: 'eightByEightBridge', required: true });
    expect((n.fields ?? []).map((f) => f.key)).toEqual(
      expect.arrayContaining(['storeLocation', 'inputKey', 'contextKey', 'timeoutMs']),
    );
    const children = n.dependencies?.children ?? [];
    expect(children.length).toBeGreaterThanOrEqual(2);
    for (const type of children) {
      const child = node(type);
      expect(child.parentType).toBe(n.type);
      expect(child.constraints).toMatchObject({ creatable: false, deletable: false, movable: false });
    }
  }
  // No orphan exits.
  for (const child of nodes().filter((n) => n.parentType))
    expect(node(child.parentType!).dependencies?.children).toContain(child.type);
});

test('the exits are On Success / On Error, and Relayed / Not Relayed / On Error for Relay To Agent', () => {
  const exits = (type: string) => node(type).dependencies!.children.map((c) => label(node(c)));
  for (const n of parents().filter((p) => p.type !== 'relayToAgent'))
    expect(exits(n.type)).toEqual(['On Success', 'On Error']);
  expect(exits('relayToAgent')).toEqual(['Relayed', 'Not Relayed', 'On Error']);
});

test("Send SMS has every field of Cognigy's 8x8 Send SMS node, with the same keys, types and defaults", () => {
  // Cognigy/Extensions extensions/8x8/src/nodes/SMS/sendSMS.ts: key → [type, default].
  const cognigy: Record<string, [string, unknown]> = {
    destination: ['text', undefined],
    text: ['text', undefined],
    source: ['text', undefined],
    country: ['cognigyText', undefined],
    clientMessageId: ['text', undefined],
    encoding: ['select', 'AUTO'],
    scheduled: ['datetime', undefined],
    expiry: ['datetime', undefined],
    dlrCallbackUrl: ['cognigyText', undefined],
    clientIp: ['cognigyText', undefined],
    track: ['cognigyText', undefined],
    storeLocation: ['select', 'context'],
    inputKey: ['cognigyText', 'sms8x8'],
    contextKey: ['cognigyText', 'sms8x8'],
  };
  const fields = new Map((node('sendSMS').fields ?? []).map((f) => [f.key, f]));
  for (const [key, [type, defaultValue]] of Object.entries(cognigy)) {
    expect({ key, type: fields.get(key)?.type, defaultValue: fields.get(key)?.defaultValue }).toEqual({
      key,
      type,
      defaultValue,
    });
  }
  expect(
    (fields.get('encoding')?.params as { options: { value: string }[] }).options.map((o) => o.value),
  ).toEqual(['AUTO', 'GSM7', 'UCS2']);
  expect(fields.get('inputKey')?.condition).toEqual({ key: 'storeLocation', value: 'input' });
  expect(fields.get('contextKey')?.condition).toEqual({ key: 'storeLocation', value: 'context' });
  // The bridge's extras.
  expect([...fields.keys()]).toEqual(
    expect.arrayContaining([
      'waitForUmidMs',
      'injectReceipts',
      'receiptEvents',
      'endpointBaseUrl',
      'clientMessageIdFromInput',
    ]),
  );
});
