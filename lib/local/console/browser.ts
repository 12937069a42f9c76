/**
 * Debian's chromium driven by playwright-core, for the console's browser tests and its screenshot
 * (bin/console-screenshot.ts). No browser is downloaded: PLAYWRIGHT_CHROMIUM_EXECUTABLE or /usr/bin/chromium
 * (`apt-get install -y chromium`; .ci/run installs it when it is missing).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export class ChromiumMissingError extends Error {
  constructor(path: string) {
    super(
      `No Chromium at ${path}. Install Debian's package (sudo apt-get install -y chromium) or set ` +
        'PLAYWRIGHT_CHROMIUM_EXECUTABLE to a Chromium or Chrome binary; the console browser tests need it.',
    );
    this.name = 'ChromiumMissingError';
  }
}

/** The Chromium binary to drive; throws ChromiumMissingError when there is none. */
export function chromiumExecutable(env: NodeJS.ProcessEnv = process.env): string {
  const path = env.PLAYWRIGHT_CHROMIUM_EXECUTABLE?.trim() || DEFAULT_CHROMIUM;
  if (!existsSync(path)) throw new ChromiumMissingError(path);
  return path;
}

/** Headless Chromium; without its sandbox when running as root (Chromium refuses to start sandboxed as root). */
export function launchChromium(env: NodeJS.ProcessEnv = process.env): Promise<Browser> {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return chromium.launch({
    executablePath: chromiumExecutable(env),
    headless: true,
    chromiumSandbox: !asRoot,
  });
}
