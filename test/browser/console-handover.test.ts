/**
 * The local console's handover panes (issue 12 item 1): a whole handover played from the page — started as the
 * Cognigy flow would (POST /handover), the agent joins, messages both ways, the agent leaves — with each side shown
 * as it really received it: the user's pane from the Cognigy Endpoint simulator, the agent's from the Chat Gateway
 * simulator, the statuses from the bridge's GET /handover/{id}. Chat text is hostile markup and must stay text.
 */
import type { Locator } from 'playwright-core';
import { openConsole, type ConsoleSession } from '../helpers/console-browser';

jest.setTimeout(180_000);

const AGENT_TEXT = `Hi <b>Ada</b> <img src=x onerror="window.__xss='agent'">`;
const USER_TEXT = `Thanks! <script>window.__xss='user'</script>`;

let session: ConsoleSession;

beforeAll(async () => {
  session = await openConsole();
});

afterAll(async () => {
  await session?.close();
});

async function submit(form: Locator, fields: Record<string, string> = {}): Promise<void> {
  for (const [name, value] of Object.entries(fields)) await form.locator(`input[name="${name}"]`).fill(value);
  await form.locator('button').click();
}

test('a whole handover is played from the two panes (join, both ways, transfer, leave), with the statuses each side saw', async () => {
  const { page } = session;
  await page.locator('#no-handovers').waitFor();
  await submit(page.locator('form[data-action="handover-start"]'), {
    name: 'Ada <i>Lovelace</i>',
    text: 'My parcel has not arrived',
  });

  const card = page.locator('#conversations article.conversation').first();
  await card.waitFor();
  expect(await page.locator('#no-handovers').isHidden()).toBe(true);
  const userLog = card.locator('.user-log');
  const agentLog = card.locator('.agent-log');
  const bridgeStatus = (status: string) => card.locator(`.status [data-bridge-status="${status}"]`).waitFor();

  // 8x8 queued it; Cognigy heard `queue`; the agent sees the transcript the flow handed over.
  await bridgeStatus('queue');
  await userLog.locator('.line.system', { hasText: 'handover queue' }).waitFor();
  await agentLog.locator('.line.user', { hasText: 'My parcel has not arrived' }).waitFor();

  await submit(card.locator('form[data-action="agent-join"]'), { agentId: 'agent-grace' });
  await bridgeStatus('active');
  await userLog.locator('.line.system', { hasText: 'handover active (agent-grace)' }).waitFor();
  await agentLog.locator('.line.system', { hasText: 'agent agent-grace joined' }).waitFor();

  // Agent → user: the user's pane shows what Cognigy's notify received.
  await submit(card.locator('form[data-action="agent-message"]'), { text: AGENT_TEXT });
  const agentLine = userLog.locator('.line.agent', { hasText: 'onerror' });
  await agentLine.waitFor();
  expect(await agentLine.locator('.text').textContent()).toBe(AGENT_TEXT);
  expect(await agentLog.locator('.line.agent .text').last().textContent()).toBe(AGENT_TEXT);

  // User → agent: the agent's pane shows what reached the Chat Gateway.
  await submit(card.locator('form[data-action="user-message"]'), { text: USER_TEXT });
  const userLine = agentLog.locator('.line.user', { hasText: 'Thanks!' });
  await userLine.waitFor();
  expect(await userLine.locator('.text').textContent()).toBe(USER_TEXT);
  await userLog.locator('.line.user', { hasText: 'Thanks!' }).locator('.note', { hasText: '202' }).waitFor();

  // The agent transfers to another queue; the next agent picks it up there.
  await submit(card.locator('form[data-action="agent-transfer"]'), { queueName: 'Escalations' });
  await userLog.locator('.line.system', { hasText: 'Escalations' }).waitFor();
  await agentLog.locator('.line.system', { hasText: 'agent agent-grace left' }).waitFor();
  await submit(card.locator('form[data-action="agent-join"]'), { agentId: 'agent-lin' });
  await userLog.locator('.line.system', { hasText: 'handover active (agent-lin)' }).waitFor();
  await card.locator('.status [data-sim-state="active"]', { hasText: 'agent-lin' }).waitFor();

  await submit(card.locator('form[data-action="agent-leave"]'));
  await bridgeStatus('completed');
  await userLog.locator('.line.system', { hasText: 'handover completed' }).waitFor();
  await card.locator('.status [data-sim-state="idle"]').waitFor();

  // Every Chat Gateway event was verified by the bridge's webhook.
  await page
    .locator('#webhooks tr.verified[data-source="chat"]', { hasText: 'MEMBERS_CHANGED' })
    .first()
    .waitFor();
  expect(await page.locator('#webhooks tr.refused, #webhooks tr.failed').count()).toBe(0);

  expect(
    await page
      .locator('#conversations img, #conversations script, #conversations b, #conversations i')
      .count(),
  ).toBe(0);
  expect(await page.evaluate('window.__xss')).toBeUndefined();
  expect(session.errors).toEqual([]);
});

test('an agent action the Chat Gateway refuses is reported in the card', async () => {
  const { page } = session;
  const card = page.locator('#conversations article.conversation').first();
  await submit(card.locator('form[data-action="agent-message"]'), { text: 'Anyone there?' });
  const result = card.locator('.result[data-ok="false"]');
  await result.waitFor();
  expect(await result.textContent()).toMatch(/^agent message → 409/);
});
