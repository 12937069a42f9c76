/**
 * README.md tells the truth about configuration: every setting of the catalogue is in its Settings section, every
 * variable of local mode (lib/local/options.ts) is documented, and the local webhook URLs it lists are the routes
 * 8x8 posts to (functions/shared/catalogue.ts ROUTES with their own authentication).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROUTES, SETTINGS } from '../../../functions/shared/catalogue';
import { LOCAL_OPTIONS } from '../../../lib/local/options';

const readme = readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');

/** The text of one `## ` section, up to the next one. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

test('the Settings section lists every setting of the catalogue', () => {
  const settings = section('Settings');
  expect(Object.values(SETTINGS).filter((name) => !settings.includes(`\`${name}\``))).toEqual([]);
});

test('the Local mode section documents every local-mode variable and says npm start reads the environment', () => {
  const local = section('Local mode');
  expect(Object.keys(LOCAL_OPTIONS).filter((name) => !local.includes(name))).toEqual([]);
  expect(local).toContain('`npm start` reads every setting from its environment');
});

test('the Local mode section lists the local URL of every webhook 8x8 posts to', () => {
  const local = section('Local mode');
  const webhooks = ROUTES.filter((route) => route.auth === 'self');
  expect(webhooks.length).toBeGreaterThan(0);
  for (const route of webhooks) {
    expect(local).toContain(`${route.method} http://127.0.0.1:3000${route.path}`);
  }
});
