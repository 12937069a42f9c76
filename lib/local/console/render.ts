/**
 * The console's HTML, rendered on the server only: the whole page for GET /console and the same fragments for each
 * live update. Every value from outside (SMS text, chat text, ids, answers) passes through `escapeHtml` — user text is
 * hostile — and the page's Content-Security-Policy (lib/local/console/server.ts) allows only its own nonce'd script
 * and style, so a missed escape still could not run anything.
 */
import type {
  ConsoleSnapshot,
  ConversationView,
  HandsetLine,
  HandsetView,
  PaneLine,
  SmsView,
  WebhookView,
} from './sources';
import { LOCAL_SMS_NUMBER } from '../constants';
import { CONSOLE_SCRIPT } from './script';

const ESCAPES = new Map([
  ['&', '&amp;'],
  ['<', '&lt;'],
  ['>', '&gt;'],
  ['"', '&quot;'],
  ["'", '&#39;'],
  ['`', '&#96;'],
]);

/** Text safe in element content and in quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => ESCAPES.get(c) ?? c);
}

/** Tagged template: every interpolated value is escaped unless it is already `Html`. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function markup(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += piece(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

function piece(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(piece).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(value);
}

/** Time of day in UTC with milliseconds; the full ISO 8601 timestamp in the title. */
function when(at: number | string): Html {
  const ms = typeof at === 'number' ? at : Date.parse(at);
  if (!Number.isFinite(ms) || ms <= 0) return markup``;
  const iso = new Date(ms).toISOString();
  return markup`<time datetime="${iso}" title="${iso}">${iso.slice(11, 23)}</time>`;
}

// ---- Handset (SMS outbox) ----------------------------------------------------------------------------------------

export function renderSms(sms: SmsView): Html {
  const status = sms.refused ? 'refused' : (sms.status ?? (sms.umid ? 'at-8x8' : 'unknown'));
  const label = sms.refused
    ? `refused: ${sms.refused}`
    : sms.status
      ? `${sms.status.toUpperCase()}${sms.statusDescription ? ` — ${sms.statusDescription}` : ''}`
      : sms.answerTo === 'bot'
        ? "the SMS bot's answer to an inbound SMS"
        : sms.answerTo === 'keyword'
          ? 'the answer to an inbound STOP, START or HELP'
          : 'no bridge record (sent by another API key, or the bridge has not answered yet)';
  return markup`<li class="sms" data-key="${sms.key}" data-status="${status}">
    <div class="sms-head"><span class="to">To ${sms.destination}</span> ${when(sms.at)}</div>
    <p class="bubble">${sms.text}</p>
    <p class="state state-${status}">${label}</p>
    ${
      sms.history.length > 0
        ? markup`<ol class="history">
            ${sms.history.map(
              (h) =>
                markup`<li data-status="${h.status}">
                  ${h.status.toUpperCase()}
                  ${when(h.at)}${h.detail ? markup` <span class="detail">${h.detail}</span>` : ''}
                </li>`,
            )}
          </ol>`
        : ''
    }
    ${
      sms.receipts.length > 0
        ? markup`<ul class="receipts">
            ${sms.receipts.map(
              (r) =>
                markup`<li class="${r.ok ? 'ok' : 'bad'}">
                  receipt ${r.state}${r.duplicate ? ' (duplicate)' : ''} →
                  ${r.answer}${r.attempt > 0 ? ` · retry ${r.attempt}` : ''} ${when(r.at)}
                </li>`,
            )}
          </ul>`
        : ''
    }
    ${sms.messageId ? markup`<p class="ids">messageId ${sms.messageId}${sms.umid ? markup` · umid ${sms.umid}` : ''}</p>` : sms.umid ? markup`<p class="ids">umid ${sms.umid}</p>` : ''}
  </li>`;
}

export function renderOutbox(outbox: SmsView[], available: boolean): Html {
  if (outbox.length === 0)
    return available
      ? markup`<li class="empty">No SMS yet. Send one above, or POST /sms with the API key.</li>`
      : markup`<li class="empty">8x8 SMS is the real service: only SMS sent from this page are listed.</li>`;
  return markup`${outbox.map(renderSms)}`;
}

// ---- Handset texting the bridge (two-way SMS) ---------------------------------------------------------------------

function renderHandsetLine(line: HandsetLine): Html {
  return markup`<li
    class="handset-msg ${line.direction}${line.failed ? ' failed' : ''}"
    data-direction="${line.direction}"
    data-umid="${line.umid}"
  >
    <div class="sms-head">
      <span class="peer">${line.direction === 'received' ? 'From' : 'To'} ${line.peer}</span> ${when(line.at)}
    </div>
    <p class="bubble">${line.text}</p>
    ${line.note ? markup`<p class="note">${line.note}</p>` : ''}
  </li>`;
}

export function renderHandsetLog(handset: HandsetView, available: boolean): Html {
  if (handset.lines.length === 0)
    return available
      ? markup`<li class="empty">
          Nothing on ${handset.number} yet. Text the bridge above: with no flow waiting for a reply, the SMS bot
          answers (locally the Cognigy simulator's echo bot).
        </li>`
      : markup`<li class="empty">8x8 SMS is the real service: text its number from a real phone.</li>`;
  return markup`${handset.lines.map(renderHandsetLine)}`;
}

export function renderHandsetNumbers(handset: HandsetView): Html {
  return markup`${handset.known.map((number) => markup`<option value="${number}"></option>`)}`;
}

// ---- Handovers ---------------------------------------------------------------------------------------------------

function renderLine(line: PaneLine): Html {
  return markup`<li class="line ${line.kind}${line.failed ? ' failed' : ''}">
    <span class="who">${line.kind}</span>
    <span class="text">${line.text}</span>${line.note ? markup` <span class="note">${line.note}</span>` : ''}
    ${when(line.at)}
  </li>`;
}

export function renderLines(lines: PaneLine[]): Html {
  return markup`${lines.map(renderLine)}`;
}

export function renderConversationStatus(c: ConversationView): Html {
  return markup`<span class="badge" data-bridge-status="${c.bridgeStatus ?? 'unknown'}"
      >bridge: ${c.bridgeStatus ?? '—'}${c.bridgeDetail ? ` (${c.bridgeDetail})` : ''}</span
    >
    <span class="badge" data-sim-state="${c.simState ?? 'unknown'}"
      >8x8: ${c.simState ?? '—'}${c.agentId ? ` · agent ${c.agentId}` : ''}</span
    >
    ${c.sessionId ? markup`<span class="session">Cognigy session ${c.sessionId}</span>` : markup`<span class="session">Cognigy session unknown (not started here, no push yet)</span>`}`;
}

export function renderConversation(c: ConversationView): Html {
  return markup`<article class="conversation" data-id="${c.id}">
    <header>
      <h3>Conversation <code>${c.id}</code></h3>
      <p class="status">${renderConversationStatus(c)}</p>
    </header>
    <div class="panes">
      <div class="pane user-side">
        <h4>User — as Cognigy's Endpoint received it</h4>
        <ol class="log user-log">
          ${renderLines(c.userPane)}
        </ol>
        <form data-action="user-message">
          <input name="text" autocomplete="off" placeholder="Type as the user" required /><button>
            Send as user
          </button>
        </form>
        <form data-action="user-end"><button>User ends chat</button></form>
      </div>
      <div class="pane agent-side">
        <h4>Agent — as 8x8's Chat Gateway shows it</h4>
        <ol class="log agent-log">
          ${renderLines(c.agentPane)}
        </ol>
        <form data-action="agent-message">
          <input name="text" autocomplete="off" placeholder="Type as the agent" required /><button>
            Send as agent
          </button>
        </form>
        <div class="buttons">
          <form data-action="agent-join">
            <input name="agentId" autocomplete="off" placeholder="agent-1" size="8" /><button>
              Agent joins
            </button>
          </form>
          <form data-action="agent-transfer">
            <input name="queueName" autocomplete="off" placeholder="Escalations" size="10" /><button>
              Transfer
            </button>
          </form>
          <form data-action="agent-leave"><button>Agent leaves</button></form>
        </div>
      </div>
    </div>
    <p class="result" role="status"></p>
  </article>`;
}

// ---- Webhooks ----------------------------------------------------------------------------------------------------

export function renderWebhooks(log: WebhookView[]): Html {
  if (log.length === 0)
    return markup`<tr>
      <td colspan="5" class="empty">No webhook calls yet.</td>
    </tr>`;
  return markup`${log.map(
    (w) =>
      markup`<tr class="${w.result}" data-source="${w.source}">
        <td>${when(w.at)}</td>
        <td>
          ${w.source === 'sms' ? '8x8 SMS receipt' : w.source === 'inbound' ? '8x8 inbound SMS' : '8x8 Chat Gateway'}
        </td>
        <td>${w.what}</td>
        <td>${w.attempt > 0 ? `retry ${w.attempt}` : 'first'}</td>
        <td class="verdict">${w.result === 'pending' ? 'pending' : `${w.result} · ${w.answer}`}</td>
      </tr>`,
  )}`;
}

// ---- The live update and the page --------------------------------------------------------------------------------

/** What one live update carries: HTML fragments, rendered here. */
export interface ConsoleFragments {
  outbox: string;
  /** The handset's number, its SMS and the numbers to pick from. */
  handset: { number: string; log: string; numbers: string };
  webhooks: string;
  problems: string;
  conversations: { id: string; card: string; status: string; user: string; agent: string }[];
}

export function renderFragments(snapshot: ConsoleSnapshot): ConsoleFragments {
  return {
    outbox: renderOutbox(snapshot.outbox, snapshot.services.sms).value,
    handset: {
      number: snapshot.handset.number,
      log: renderHandsetLog(snapshot.handset, snapshot.services.sms).value,
      numbers: renderHandsetNumbers(snapshot.handset).value,
    },
    webhooks: renderWebhooks(snapshot.webhooks).value,
    problems: markup`${snapshot.problems.map((p) => markup`<li>${p}</li>`)}`.value,
    conversations: snapshot.conversations.map((c) => ({
      id: c.id,
      card: renderConversation(c).value,
      status: renderConversationStatus(c).value,
      user: renderLines(c.userPane).value,
      agent: renderLines(c.agentPane).value,
    })),
  };
}

const STYLE = `
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f3f4f6; color: #111827; }
header.top { background: #1f2937; color: #f9fafb; padding: 10px 16px; }
header.top h1 { font-size: 18px; margin: 0; }
header.top p { margin: 2px 0 0; color: #d1d5db; font-size: 12px; }
#problems { color: #b91c1c; margin: 0; padding: 0 16px; list-style: none; }
main { display: grid; grid-template-columns: minmax(280px, 1fr) minmax(520px, 2.2fr); gap: 12px; padding: 12px; }
section { background: #fff; border-radius: 8px; padding: 10px 12px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
section h2 { font-size: 15px; margin: 0 0 8px; }
#webhook-section { grid-column: 1 / -1; }
form { display: flex; gap: 6px; margin: 6px 0; flex-wrap: wrap; }
input { flex: 1; min-width: 60px; padding: 5px 7px; border: 1px solid #d1d5db; border-radius: 5px; font: inherit; }
button { padding: 5px 10px; border: 0; border-radius: 5px; background: #2563eb; color: #fff; font: inherit; cursor: pointer; }
.result, .handset-result { color: #374151; font-size: 12px; min-height: 1em; margin: 2px 0; }
.result[data-ok="false"], .handset-result[data-ok="false"] { color: #b91c1c; }
.phone { border: 8px solid #111827; border-radius: 22px; padding: 8px; background: #e5e7eb; max-height: 70vh; overflow-y: auto; }
#outbox { list-style: none; margin: 0; padding: 0; }
.sms { background: #fff; border-radius: 10px; padding: 6px 8px; margin: 0 0 8px; }
.sms-head { font-size: 12px; color: #6b7280; display: flex; justify-content: space-between; }
.bubble { background: #dcfce7; border-radius: 12px; padding: 6px 10px; margin: 4px 0; white-space: pre-wrap; word-break: break-word; }
.state { font-weight: 600; margin: 2px 0; font-size: 12px; }
.state-delivered { color: #15803d; } .state-undelivered, .state-failed, .state-rejected, .state-refused { color: #b91c1c; }
.history, .receipts { margin: 0; padding-left: 18px; font-size: 12px; color: #374151; }
.receipts .bad { color: #b91c1c; }
.ids, .detail, .note, time { font-size: 11px; color: #6b7280; }
#handset-log { list-style: none; margin: 0; padding: 0; }
.handset-msg { border-radius: 10px; padding: 4px 8px; margin: 0 0 6px; max-width: 85%; }
.handset-msg.received { background: #fff; margin-right: auto; }
.handset-msg.sent { background: #dbeafe; margin-left: auto; }
.handset-msg .bubble { background: none; padding: 0; margin: 2px 0; }
.handset-msg.failed { outline: 1px solid #fca5a5; }
h3.handset-title { font-size: 14px; margin: 12px 0 4px; }
form[data-action="handset-text"] input[name="from"], form[data-action="handset-text"] input[name="to"] { flex: 1 1 40%; }
form[data-action="handset-text"] input[name="text"] { flex: 1 1 60%; }
.conversation { border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px; margin: 0 0 10px; }
.conversation h3 { font-size: 14px; margin: 0; }
.status { margin: 4px 0; display: flex; gap: 6px; flex-wrap: wrap; font-size: 12px; }
.badge { background: #eef2ff; border-radius: 10px; padding: 1px 8px; }
.session { color: #6b7280; }
.panes { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; }
.pane { background: #f9fafb; border-radius: 6px; padding: 6px; min-width: 0; }
.pane h4 { margin: 0 0 4px; font-size: 12px; color: #374151; }
.log { list-style: none; margin: 0; padding: 0; max-height: 320px; overflow-y: auto; }
.line { margin: 3px 0; padding: 4px 8px; border-radius: 10px; word-break: break-word; }
.line .text { white-space: pre-wrap; }
.line .who { font-size: 10px; text-transform: uppercase; color: #6b7280; }
.line.user { background: #dbeafe; margin-right: 20%; } .line.agent { background: #dcfce7; margin-left: 20%; }
.line.bot, .line.history { background: #f3f4f6; } .line.system { background: none; color: #4b5563; font-size: 12px; text-align: center; }
.line.failed { outline: 1px solid #fca5a5; }
.buttons { display: flex; flex-wrap: wrap; gap: 4px; } .buttons form { margin: 0; flex: 1; }
table { width: 100%; border-collapse: collapse; font-size: 12px; }
td, th { text-align: left; padding: 3px 6px; border-bottom: 1px solid #f3f4f6; word-break: break-all; }
tr.refused td.verdict, tr.failed td.verdict { color: #b91c1c; font-weight: 600; } tr.verified td.verdict { color: #15803d; }
.empty { color: #6b7280; }
`;

export interface PageInput {
  token: string;
  nonce: string;
  snapshot: ConsoleSnapshot;
  /** Which upstreams are the simulators (the console can drive them) and which are real. */
  services: { sms: string; chatGateway: string; cognigy: string };
}

export function renderPage({ token, nonce, snapshot, services }: PageInput): string {
  const fragments = renderFragments(snapshot);
  return markup`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="console-token" content="${token}" />
        <link rel="icon" href="data:," />
        <title>Cognigy ↔ 8x8 bridge — local console</title>
        <style nonce="${nonce}">
          ${new Html(STYLE)}
        </style>
      </head>
      <body>
        <header class="top">
          <h1>Cognigy ↔ 8x8 bridge — local console</h1>
          <p>
            8x8 SMS: ${services.sms} · 8x8 Chat Gateway: ${services.chatGateway} · Cognigy Endpoint:
            ${services.cognigy} · <span id="live">connecting…</span>
          </p>
        </header>
        <ul id="problems">
          ${new Html(fragments.problems)}
        </ul>
        <main>
          <section id="handset-section">
            <h2>Handset — the SMS outbox as 8x8 delivers it</h2>
            <form data-action="sms">
              <input name="destination" value="+6591234567" autocomplete="off" required size="14" /><input
                name="text"
                placeholder="Text of the SMS"
                autocomplete="off"
                required
              /><button>Send SMS</button>
            </form>
            <p class="result" role="status"></p>
            <div class="phone">
              <ol id="outbox">
                ${new Html(fragments.outbox)}
              </ol>
            </div>
            <div id="handset">
              <h3 class="handset-title">
                Handset <span id="handset-number">${snapshot.handset.number}</span> — texting the bridge
              </h3>
              <form data-action="handset-open">
                <input
                  name="number"
                  list="handset-numbers"
                  value="${snapshot.handset.number}"
                  autocomplete="off"
                  required
                  size="14"
                  aria-label="Handset number"
                /><button>Show handset</button>
              </form>
              <datalist id="handset-numbers">${new Html(fragments.handset.numbers)}</datalist>
              <form data-action="handset-text">
                <input
                  name="from"
                  list="handset-numbers"
                  value="${snapshot.handset.number}"
                  autocomplete="off"
                  required
                  size="14"
                  aria-label="From (the handset)"
                /><input
                  name="to"
                  value="${LOCAL_SMS_NUMBER}"
                  autocomplete="off"
                  required
                  size="14"
                  aria-label="To (the 8x8 number)"
                /><input name="text" placeholder="Reply as the handset" autocomplete="off" required /><button>
                  Text the bridge
                </button>
              </form>
              <p class="handset-result" role="status"></p>
              <div class="phone">
                <ol id="handset-log">
                  ${new Html(fragments.handset.log)}
                </ol>
              </div>
            </div>
          </section>
          <section id="handover-section">
            <h2>Handovers — the user's side and the agent's side</h2>
            <form data-action="handover-start">
              <input name="name" placeholder="Customer name" autocomplete="off" size="14" /><input
                name="text"
                placeholder="What the user told the bot"
                autocomplete="off"
              /><button>Start handover (as the Cognigy flow)</button>
            </form>
            <p class="result" role="status"></p>
            <p class="empty" id="no-handovers" ${snapshot.conversations.length > 0 ? 'hidden' : ''}>
              No handover yet. Start one above, or POST /handover with the API key.
            </p>
            <div id="conversations">${snapshot.conversations.map(renderConversation)}</div>
          </section>
          <section id="webhook-section">
            <h2>Webhooks — what 8x8 sent the bridge and how the bridge answered</h2>
            <table>
              <thead>
                <tr>
                  <th>Time (UTC)</th>
                  <th>From</th>
                  <th>What</th>
                  <th>Try</th>
                  <th>Verification</th>
                </tr>
              </thead>
              <tbody id="webhooks">
                ${new Html(fragments.webhooks)}
              </tbody>
            </table>
          </section>
        </main>
        <script nonce="${nonce}">
          ${new Html(CONSOLE_SCRIPT)};
        </script>
      </body>
    </html> `.value;
}
