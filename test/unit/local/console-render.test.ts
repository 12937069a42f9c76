/**
 * The console's server-side rendering (lib/local/console/render.ts): every outside value is escaped wherever it
 * lands — element text, attribute values, ids — so hostile SMS and chat text stays text. The browser tests show the
 * same on the live page; these cover each field quickly, property-style.
 */
import fc from 'fast-check';
import {
  escapeHtml,
  renderConversation,
  renderHandsetLog,
  renderHandsetNumbers,
  renderPage,
  renderSms,
  renderWebhooks,
} from '../../../lib/local/console/render';
import {
  describeAnswer,
  type ConversationView,
  type HandsetView,
  type SmsView,
} from '../../../lib/local/console/sources';
import { ChromiumMissingError, chromiumExecutable } from '../../../lib/local/console/browser';

const HOSTILE = `"><img src=x onerror=alert(1)><script>alert('x')</script>\`'&`;

/** No tag or attribute can open: none of these characters survive unescaped. */
const leaksMarkup = (html: string, hostile: string) =>
  html.includes(hostile) || /<(img|script)\b/i.test(html);

const sms = (text: string, key = 'k-1'): SmsView => ({
  key,
  messageId: key,
  destination: text,
  text,
  at: '2026-12-07T00:00:00.000Z',
  status: 'delivered',
  statusDescription: text,
  history: [{ status: 'queued', at: '2026-12-07T00:00:00.000Z', detail: text }],
  receipts: [
    { state: text, at: '2026-12-07T00:00:01.000Z', attempt: 0, duplicate: false, answer: text, ok: true },
  ],
});

const conversation = (text: string): ConversationView => ({
  id: text,
  sessionId: text,
  createdAt: '2026-12-07T00:00:00Z',
  simState: text,
  agentId: text,
  bridgeStatus: text,
  bridgeDetail: text,
  userPane: [{ at: 1, kind: 'user', text, note: text }],
  agentPane: [{ at: 2, kind: 'agent', text, note: text, failed: true }],
});

const handset = (text: string): HandsetView => ({
  number: text,
  lines: [
    { direction: 'received', peer: text, text, at: '2026-12-07T00:00:00.000Z', umid: text },
    {
      direction: 'sent',
      peer: text,
      text,
      at: '2026-12-07T00:00:01.000Z',
      umid: text,
      note: text,
      failed: true,
    },
  ],
  known: [text],
});

test('escapeHtml turns every markup character into an entity', () => {
  expect(escapeHtml(`<a href="x" title='y'>&\`</a>`)).toBe(
    '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;',
  );
  expect(escapeHtml(undefined)).toBe('');
});

test('hostile text in any SMS, chat or webhook field renders as text', () => {
  const seed = Date.now();
  console.log(`fast-check seed ${seed}`);
  fc.assert(
    fc.property(
      fc.oneof(
        fc.constant(HOSTILE),
        fc.string({ unit: fc.constantFrom(...`<>"'&\`=/ ax`.split('')), minLength: 1 }),
      ),
      (text) => {
        const hostile = `<img src=x onerror=${text}>`;
        for (const html of [
          renderSms(sms(hostile, hostile)).value,
          renderConversation(conversation(hostile)).value,
          renderHandsetLog(handset(hostile), true).value,
          renderHandsetNumbers(handset(hostile)).value,
          renderWebhooks([
            { at: 1, source: 'chat', what: hostile, result: 'refused', answer: hostile, attempt: 1 },
          ]).value,
        ]) {
          expect(leaksMarkup(html, hostile)).toBe(false);
          expect(html).toContain(escapeHtml(hostile));
        }
      },
    ),
    { seed, numRuns: 200 },
  );
});

test('the page carries the token and nonce only where they belong', () => {
  const page = renderPage({
    token: 'tok-1',
    nonce: 'n0nce',
    services: { sms: 'simulator', chatGateway: 'real', cognigy: 'simulator' },
    snapshot: {
      services: { sms: true, chatGateway: false, cognigy: true },
      outbox: [sms(HOSTILE)],
      handset: handset(HOSTILE),
      conversations: [conversation(HOSTILE)],
      webhooks: [],
      problems: [HOSTILE],
    },
  });
  expect(page.match(/<script\b/g)).toHaveLength(1);
  expect(page).toContain('<script nonce="n0nce">');
  expect(page).toContain('<meta name="console-token" content="tok-1"');
  expect(leaksMarkup(page.replace('<script nonce="n0nce">', ''), HOSTILE)).toBe(false);
});

test("answers are summarised with the bridge's error code", () => {
  expect(describeAnswer(401, '{"ok":false,"error":{"code":"SIGNATURE_INVALID","message":"x"}}')).toBe(
    '401 SIGNATURE_INVALID',
  );
  expect(describeAnswer(200, { ok: true })).toBe('200');
  expect(describeAnswer('timeout', undefined)).toBe('timeout');
});

test('a missing Chromium is an error that says how to get one', () => {
  expect(() => chromiumExecutable({ PLAYWRIGHT_CHROMIUM_EXECUTABLE: '/nonexistent/chromium' })).toThrow(
    ChromiumMissingError,
  );
  expect(() => chromiumExecutable({ PLAYWRIGHT_CHROMIUM_EXECUTABLE: '/nonexistent/chromium' })).toThrow(
    /apt-get install -y chromium/,
  );
});

test('the handset shows its SMS in order, each side marked, and says how to start when it has none', () => {
  const html = renderHandsetLog(
    {
      number: '+6591234567',
      lines: [
        {
          direction: 'sent',
          peer: '+6568008888',
          text: 'hi',
          at: '2026-12-07T00:00:00.000Z',
          umid: 'u-1',
          note: 'to the bridge → 200',
        },
        {
          direction: 'received',
          peer: '+6568008888',
          text: 'You said: hi (turn 1)',
          at: '2026-12-07T00:00:01.000Z',
          umid: 'u-2',
        },
      ],
      known: [],
    },
    true,
  ).value;
  expect([...html.matchAll(/data-direction="(\w+)"/g)].map((m) => m[1])).toEqual(['sent', 'received']);
  expect(html.indexOf('hi')).toBeLessThan(html.indexOf('You said: hi (turn 1)'));
  expect(html).toContain('To +6568008888');
  expect(html).toContain('From +6568008888');
  const empty = { number: '+6591234567', lines: [], known: [] };
  expect(renderHandsetLog(empty, true).value).toContain('Nothing on +6591234567 yet');
  expect(renderHandsetLog(empty, false).value).toContain('real service');
});
