/**
 * The local console (lib/local/console/) in Debian's chromium: a test stack with quick simulators, one browser and
 * one page on the console. Chromium missing is a failure with a clear message, never a skip.
 */
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../lib/local/console/browser';
import type { LocalStack } from '../../lib/local/stack';
import { startTestStack } from './local';

export interface ConsoleSession {
  stack: LocalStack;
  browser: Browser;
  page: Page;
  /** Page errors and console errors seen so far (a test asserts there are none). */
  errors: string[];
  close(): Promise<void>;
}

/** Generous: the machine is shared, and each step waits on the whole stack (queues, sandboxes, webhooks). */
export const STEP_TIMEOUT_MS = 30_000;

export async function openConsole(): Promise<ConsoleSession> {
  const browser = await launchChromium();
  let stack: LocalStack | undefined;
  try {
    stack = await startTestStack({
      simulators: { sms: { receiptDelayMs: 20 }, chatGateway: { lifecycleStepMs: 5 } },
    });
    const page = await browser.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    await page.goto(stack.urls.console);
    // Live: the first Server-Sent Events update has arrived.
    await page.waitForFunction('Number(document.body.dataset.updates || 0) > 0');
    const started = stack;
    return {
      stack: started,
      browser,
      page,
      errors,
      close: async () => {
        await browser.close();
        await started.stop();
      },
    };
  } catch (error) {
    await browser.close();
    await stack?.stop();
    throw error;
  }
}
