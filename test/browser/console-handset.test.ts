/**
 * The local console's handset (issue 14 item 6): a reply typed as the handset goes through the SMS simulator, which
 * texts the bridge as 8x8 would (inbound_message_received to /webhooks/8x8/sms/inbound); the handset pane shows what
 * the handset sent and, live, the SMS bot's answer (locally the Cognigy simulator's echo REST Endpoint) as it
 * reaches the handset. Hostile text stays text.
 */
import { LOCAL_SMS_NUMBER } from '../../lib/local/constants';
import { openConsole, type ConsoleSession } from '../helpers/console-browser';

jest.setTimeout(120_000);

const HOSTILE = `<img src=x onerror="window.__xss='handset'">"'&amp;`;

let session: ConsoleSession;

beforeAll(async () => {
  session = await openConsole();
});

afterAll(async () => {
  await session?.close();
});

async function textTheBridge(from: string, text: string): Promise<void> {
  const form = session.page.locator('form[data-action="handset-text"]');
  await form.locator('input[name="from"]').fill(from);
  await form.locator('input[name="to"]').fill(LOCAL_SMS_NUMBER);
  await form.locator('input[name="text"]').fill(text);
  await form.locator('button').click();
}

test('a reply typed as the handset is texted to the bridge and shows on the handset, as text', async () => {
  const { page, stack } = session;
  await textTheBridge('+6591230042', HOSTILE);

  const sent = page.locator('#handset-log li[data-direction="sent"]', { hasText: 'onerror' });
  await sent.waitFor();
  expect(await sent.locator('.bubble').textContent()).toBe(HOSTILE);
  expect(await page.locator('#handset-number').textContent()).toBe('+6591230042');
  // 8x8's POST reached the bridge's inbound route and the pane shows the bridge's answer to it.
  await sent.locator('.note', { hasText: /^to the bridge → (retry \d → )?\d{3}/ }).waitFor();
  const delivery = await stack.sms!.waitForInbound((d) => d.from === '+6591230042');
  expect(delivery.url).toBe(`${stack.urls.gateway}/webhooks/8x8/sms/inbound`);
  await page
    .locator('#webhooks tr[data-source="inbound"]', { hasText: 'inbound SMS from +6591230042' })
    .first()
    .waitFor();

  expect(await page.locator('#handset-log img, #handset-log script').count()).toBe(0);
  expect(await page.evaluate('window.__xss')).toBeUndefined();
  expect(await page.locator('#handset .handset-result').getAttribute('data-ok')).toBe('true');
  expect(session.errors).toEqual([]);
});

test('texting the echo bot from the console: its answers arrive at the handset, in order', async () => {
  const { page, stack } = session;
  const phone = '+6591230077';
  await textTheBridge(phone, 'hello from the handset');
  const first = page.locator('#handset-log li[data-direction="received"]', {
    hasText: 'You said: hello from the handset (turn 1)',
  });
  await first.waitFor();
  expect(await first.locator('.peer').textContent()).toBe(`From ${LOCAL_SMS_NUMBER}`);

  await textTheBridge(phone, 'second message');
  await page
    .locator('#handset-log li[data-direction="received"]', { hasText: 'You said: second message (turn 2)' })
    .waitFor();
  const lines = await page
    .locator('#handset-log li')
    .evaluateAll((items) =>
      items.map((i) => `${i.getAttribute('data-direction')}: ${i.querySelector('.bubble')?.textContent}`),
    );
  expect(lines).toEqual([
    'sent: hello from the handset',
    'received: You said: hello from the handset (turn 1)',
    'sent: second message',
    'received: You said: second message (turn 2)',
  ]);
  // The bot was asked over the Cognigy REST Endpoint with the phone as userId, once per SMS.
  expect(stack.cognigy!.restCalls.filter((c) => c.body.userId === phone).map((c) => c.body.text)).toEqual([
    'hello from the handset',
    'second message',
  ]);
  expect(session.errors).toEqual([]);
});
