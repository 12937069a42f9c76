/**
 * The README's picture of the local console (docs/console.png), made by the browser the tests use: a local stack of
 * simulators, a short scene played from the page itself (two SMS — one delivered, one undelivered —, a handover
 * with an agent, a message each way, the handset texting the echo SMS bot), each step waited for on the page, then a
 * PNG of the whole page.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { startLocalStack } from '../stack';
import { launchChromium } from './browser';

const STEP_TIMEOUT_MS = 30_000;

async function submit(form: Locator, fields: Record<string, string> = {}): Promise<void> {
  for (const [name, value] of Object.entries(fields)) await form.locator(`input[name="${name}"]`).fill(value);
  await form.locator('button').click();
}

async function playScene(page: Page): Promise<void> {
  const sms = page.locator('form[data-action="sms"]');
  await submit(sms, {
    destination: '+6591234567',
    text: 'Your parcel CASE-1815 arrives today between 14:00 and 16:00.',
  });
  await page.locator('#outbox li.sms[data-status="delivered"]').waitFor();
  await submit(sms, { destination: '+6590000000', text: 'Reply STOP to opt out.' });
  await page.locator('#outbox li.sms[data-status="undelivered"]').waitFor();

  await submit(page.locator('form[data-action="handover-start"]'), {
    name: 'Ada Lovelace',
    text: 'My parcel has not arrived',
  });
  const card = page.locator('#conversations article.conversation').first();
  await card.locator('.status [data-bridge-status="queue"]').waitFor();
  await submit(card.locator('form[data-action="agent-join"]'), { agentId: 'agent-grace' });
  await card.locator('.status [data-bridge-status="active"]').waitFor();
  await submit(card.locator('form[data-action="agent-message"]'), {
    text: 'Hi Ada, I am Grace. Let me look at your parcel.',
  });
  await card.locator('.user-log .line.agent', { hasText: 'I am Grace' }).waitFor();
  await submit(card.locator('form[data-action="user-message"]'), { text: 'Thank you! It is CASE-1815.' });
  await card.locator('.agent-log .line.user', { hasText: 'CASE-1815' }).waitFor();
  await card.locator('.user-log .line.user .note', { hasText: '202' }).waitFor();

  // The handset texts the bridge; the local SMS bot (the Cognigy simulator's echo REST Endpoint) answers it.
  await submit(page.locator('form[data-action="handset-text"]'), { text: 'Can I change the delivery time?' });
  await page
    .locator('#handset-log li[data-direction="received"]', { hasText: 'You said: Can I change' })
    .waitFor();
  // Every webhook answered (the echo of the user's message is the last one).
  await page.waitForFunction("!document.querySelector('#webhooks tr.pending')");
}

/** Starts a stack of simulators, plays the scene and writes the PNG; resolves with its path. */
export async function takeConsoleScreenshot(path: string): Promise<string> {
  const browser = await launchChromium();
  const stack = await startLocalStack({
    port: 0,
    quiet: true,
    // Simulators only, whatever the shell holds; receipts quickly.
    env: { LOG_LEVEL: 'ERROR' },
    simulators: { sms: { receiptDelayMs: 50 }, chatGateway: { lifecycleStepMs: 5 } },
  });
  try {
    await stack.warmUp();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    await page.goto(stack.urls.console);
    await page.waitForFunction('Number(document.body.dataset.updates || 0) > 0');
    await playScene(page);
    mkdirSync(dirname(path), { recursive: true });
    await page.screenshot({ path, fullPage: true });
    return path;
  } finally {
    await browser.close();
    await stack.stop();
  }
}
