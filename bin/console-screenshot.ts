/**
 * `npm run console:screenshot [path]`: the README's picture of the local console (default docs/console.png), made
 * by Debian's chromium (PLAYWRIGHT_CHROMIUM_EXECUTABLE overrides) after a short scene played on the page
 * (lib/local/console/screenshot.ts).
 */
import { takeConsoleScreenshot } from '../lib/local/console/screenshot';

takeConsoleScreenshot(process.argv[2] ?? 'docs/console.png').then(
  (path) => {
    console.log(`Wrote ${path}`);
    process.exit(0);
  },
  (error: unknown) => {
    console.error('The console screenshot failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
