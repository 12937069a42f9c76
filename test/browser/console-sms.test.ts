/**
 * The local console's handset (issue 12 item 1): an SMS typed into the page goes through the bridge's POST /sms,
 * and the page shows it reach DELIVERED with its status history, 8x8's receipts and the webhook log. The text is
 * hostile markup: it must show as text and nothing of it may run.
 */
import { openConsole, type ConsoleSession } from '../helpers/console-browser';
import { stackSecret } from '../helpers/local';

jest.setTimeout(120_000);

const HOSTILE = `<img src=x onerror="window.__xss='sms'"><script>window.__xss='script'</script>"'&amp;`;

let session: ConsoleSession;

beforeAll(async () => {
  session = await openConsole();
});

afterAll(async () => {
  await session?.close();
});

test('an SMS sent from the page reaches delivered on the page, with its history, receipts and webhooks', async () => {
  const { page } = session;
  const form = page.locator('form[data-action="sms"]');
  await form.locator('input[name="destination"]').fill('+6591234567');
  await form.locator('input[name="text"]').fill(HOSTILE);
  await form.locator('button').click();

  const sms = page.locator('#outbox li.sms', { hasText: 'onerror' });
  await sms.and(page.locator('[data-status="delivered"]')).waitFor();

  expect(await sms.locator('.bubble').textContent()).toBe(HOSTILE);
  expect(await sms.locator('.state').textContent()).toMatch(/^DELIVERED/);
  expect(await sms.locator('.history li').evaluateAll((items) => items.map((i) => i.dataset.status))).toEqual(
    expect.arrayContaining(['queued', 'sent', 'delivered']),
  );
  await sms.locator('.receipts li.ok', { hasText: 'receipt delivered → 200' }).waitFor();
  await page
    .locator('#webhooks tr.verified[data-source="sms"]', { hasText: 'receipt delivered' })
    .first()
    .waitFor();

  // The markup stayed text: no element was made of it and nothing ran.
  expect(await page.locator('#outbox img, #outbox script').count()).toBe(0);
  expect(await page.evaluate('window.__xss')).toBeUndefined();
  expect(await page.locator('#handset-section .result').getAttribute('data-ok')).toBe('true');
  expect(session.errors).toEqual([]);
});

test('an SMS the bridge refuses shows its error code on the handset', async () => {
  const { page } = session;
  const form = page.locator('form[data-action="sms"]');
  await form.locator('input[name="destination"]').fill('not-a-number');
  await form.locator('input[name="text"]').fill('Refused one');
  await form.locator('button').click();

  const sms = page.locator('#outbox li.sms[data-status="refused"]', { hasText: 'Refused one' });
  await sms.waitFor();
  expect(await sms.locator('.state').textContent()).toMatch(/^refused: 400 [A-Z_]+/);
  expect(await page.locator('#handset-section .result').getAttribute('data-ok')).toBe('false');
});

test('a receipt the bridge refuses shows as refused, with its code, in the webhook log and on the handset', async () => {
  const { page, stack } = session;
  const sim = stack.urls.smsSimulator!;
  const webhook = `${stack.urls.gateway}/webhooks/8x8/sms`;
  const setAuthorization = (authorization: string) =>
    fetch(`${sim}/__control/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: webhook, authorization }),
    });
  expect((await setAuthorization('Bearer not-the-shared-value')).status).toBe(200);
  try {
    const form = page.locator('form[data-action="sms"]');
    await form.locator('input[name="destination"]').fill('+6591230001');
    await form.locator('input[name="text"]').fill('Receipts of this one are forged');
    await form.locator('button').click();

    const refused = page.locator('#webhooks tr.refused[data-source="sms"]').first();
    await refused.waitFor();
    expect(await refused.locator('.verdict').textContent()).toMatch(/^refused · 401 [A-Z_]+$/);
    const sms = page.locator('#outbox li.sms', { hasText: 'forged' });
    await sms.locator('.receipts li.bad', { hasText: '→ 401' }).first().waitFor();
    // The bridge took neither forged receipt: the SMS is where 8x8's answer put it, with no receipt status.
    await sms.locator('.receipts li.bad', { hasText: 'receipt delivered → 401' }).first().waitFor();
    await page.locator('#outbox li.sms[data-status="sent"]', { hasText: 'forged' }).waitFor();
    expect(
      await sms
        .locator('.history li')
        .evaluateAll((items) => items.map((i) => i.getAttribute('data-status'))),
    ).toEqual(['queued', 'sent']);
  } finally {
    await setAuthorization(stackSecret(stack, 'smsWebhookAuth').authorization);
  }
});
