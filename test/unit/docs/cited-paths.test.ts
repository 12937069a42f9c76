/**
 * Every repository path README.md and docs/*.md cite exists: markdown link targets and code spans that name a file or
 * folder of the repository (`lib/local/sandbox.ts`, `test/security/`, `BENCHMARKS.md`). A path with a placeholder
 * (`functions/<name>/handler.ts`) must exist up to the placeholder. Outputs of a build (cdk.out/, dist/, extension/dist/) are not
 * repository paths and are skipped.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');

const documents = [
  'README.md',
  ...(existsSync(path.join(root, 'docs'))
    ? readdirSync(path.join(root, 'docs'))
        .filter((file) => file.endsWith('.md'))
        .map((file) => `docs/${file}`)
    : []),
];

/** Top-level entries a cited path may start with; anything else in backticks is an API path, a header, a value… */
const TOP_LEVEL = new Set([
  'docs',
  ...readdirSync(root).filter(
    (entry) => !['node_modules', '.git', 'cdk.out', 'dist', 'coverage'].includes(entry),
  ),
]);
/** Written by builds, never committed. */
const GENERATED = ['cdk.out/', 'dist/', 'coverage/', 'extension/dist/', 'extension/build/'];

/** Repository paths a markdown text cites (fenced code blocks hold commands and trees, not citations). */
function citedPaths(markdown: string, from: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '');
  const candidates = new Set<string>();
  for (const match of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = match[1]!.split('#')[0]!;
    if (target === '' || /^[a-z]+:/i.test(target)) continue;
    candidates.add(path.posix.normalize(path.posix.join(path.posix.dirname(from), target)));
  }
  for (const match of prose.matchAll(/`([^`\s]+)`/g)) {
    const span = match[1]!.replace(/[.,;:]$/, '');
    const first = span.split('/')[0]!;
    if (TOP_LEVEL.has(first) && (span.includes('/') || /\.[a-z]+$/.test(span))) candidates.add(span);
  }
  // Documents named in plain words ("see DESIGN.md"), outside URLs and code spans.
  const words = prose
    .replace(/`[^`]*`/g, '')
    .replace(/\]\([^)]*\)/g, ']')
    .replace(/https?:\/\/\S+/g, '');
  for (const match of words.matchAll(/(?<![\w/.-])((?:[\w-]+\/)*[\w-]+\.md)\b/g)) candidates.add(match[1]!);
  return [...candidates].filter((p) => !GENERATED.some((prefix) => p.startsWith(prefix)));
}

/** The part of a path before its first placeholder (`<name>`, `{id}`, `*`, `…`). */
const beforePlaceholder = (cited: string) => cited.split(/[<{*…]/)[0]!.replace(/[^/]*$/, '');

test.each(documents)('every repository path %s cites exists', (document) => {
  const text = readFileSync(path.join(root, document), 'utf8');
  const cited = citedPaths(text, document);
  expect(cited.length).toBeGreaterThan(0);
  const missing = cited.filter(
    (p) => !existsSync(path.join(root, /[<{*…]/.test(p) ? beforePlaceholder(p) : p)),
  );
  expect(missing).toEqual([]);
});

test('the extraction finds links, code spans and placeholders, and skips URLs and build outputs', () => {
  const sample = [
    'See [the sweeper](functions/sms/sweeper.ts#L1), `lib/local/sandbox.ts`, `BENCHMARKS.md`, `test/security/`.',
    'Not these: [8x8](https://developer.8x8.com), `POST /sms`, `cdk.out/openapi.json`, `x-api-key`, `/inject/{URLToken}`.',
    'A placeholder: `functions/<name>/handler.ts`; a missing one: `docs/missing.md`; in words: see DESIGN.md.',
    '```',
    'lib/not-a-citation.ts',
    '```',
  ].join('\n');
  expect(citedPaths(sample, 'README.md').sort()).toEqual(
    [
      'functions/sms/sweeper.ts',
      'lib/local/sandbox.ts',
      'BENCHMARKS.md',
      'test/security/',
      'functions/<name>/handler.ts',
      'docs/missing.md',
      'DESIGN.md',
    ].sort(),
  );
});
