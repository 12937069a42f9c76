/**
 * The console page's one inline script (no build step): live updates from GET /console/events (Server-Sent Events
 * carrying HTML fragments the server rendered and escaped), and the forms posted as JSON to
 * POST /console/actions/{action} with the page's token. It writes only server-rendered HTML and textContent.
 */
export const CONSOLE_SCRIPT = String.raw`
(() => {
  'use strict';
  const token = document.querySelector('meta[name="console-token"]').getAttribute('content');
  const list = document.getElementById('conversations');
  const cards = () => Array.from(list.querySelectorAll(':scope > .conversation'));
  const cardOf = (id) => cards().find((card) => card.dataset.id === id);

  // Replaces target's HTML; keeps scroller (target or a frame around it) at the bottom when it was there.
  function setScrolled(scroller, target, fragment) {
    if (target.innerHTML === fragment) return;
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 16;
    target.innerHTML = fragment;
    if (atBottom) scroller.scrollTop = scroller.scrollHeight;
  }
  const setLog = (log, fragment) => setScrolled(log, log, fragment);

  function toBottom(card) {
    for (const log of card.querySelectorAll('.log')) log.scrollTop = log.scrollHeight;
  }
  cards().forEach(toBottom);

  function applyConversations(conversations) {
    const wanted = new Set(conversations.map((c) => c.id));
    for (const card of cards()) if (!wanted.has(card.dataset.id)) card.remove();
    conversations.forEach((c, index) => {
      let card = cardOf(c.id);
      if (!card) {
        // Inserted before the next one that is already shown, so existing cards (and a field being typed in) stay put.
        const next = conversations.slice(index + 1).map((n) => cardOf(n.id)).find(Boolean);
        if (next) next.insertAdjacentHTML('beforebegin', c.card);
        else list.insertAdjacentHTML('beforeend', c.card);
        toBottom(cardOf(c.id));
        return;
      }
      const status = card.querySelector('.status');
      if (status.innerHTML !== c.status) status.innerHTML = c.status;
      setLog(card.querySelector('.user-log'), c.user);
      setLog(card.querySelector('.agent-log'), c.agent);
    });
  }

  function apply(update) {
    if (typeof update.outbox === 'string') document.getElementById('outbox').innerHTML = update.outbox;
    if (update.handset && typeof update.handset.log === 'string') {
      document.getElementById('handset-number').textContent = update.handset.number;
      document.getElementById('handset-numbers').innerHTML = update.handset.numbers;
      const handsetLog = document.getElementById('handset-log');
      setScrolled(handsetLog.parentElement, handsetLog, update.handset.log);
    }
    if (typeof update.webhooks === 'string') document.getElementById('webhooks').innerHTML = update.webhooks;
    if (typeof update.problems === 'string') document.getElementById('problems').innerHTML = update.problems;
    if (Array.isArray(update.conversations)) {
      applyConversations(update.conversations);
      document.getElementById('no-handovers').hidden = update.conversations.length > 0;
    }
  }

  const live = document.getElementById('live');
  const events = new EventSource('/console/events');
  events.addEventListener('state', (event) => {
    apply(JSON.parse(event.data));
    live.textContent = 'live';
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  });
  events.addEventListener('error', () => { live.textContent = 'reconnecting…'; });

  document.addEventListener('submit', async (event) => {
    const form = event.target.closest('form[data-action]');
    if (!form) return;
    event.preventDefault();
    const card = form.closest('.conversation');
    const body = {};
    for (const [name, value] of new FormData(form)) if (value !== '') body[name] = value;
    if (card) body.conversationId = card.dataset.id;
    const handset = form.closest('#handset');
    const result = handset
      ? handset.querySelector('.handset-result')
      : (card || form.closest('section')).querySelector('.result');
    result.textContent = form.dataset.action + '…';
    result.dataset.ok = '';
    try {
      const response = await fetch('/console/actions/' + encodeURIComponent(form.dataset.action), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-console-token': token },
        body: JSON.stringify(body),
      });
      const answer = await response.json();
      const ok = response.ok && answer.ok === true;
      result.textContent = answer.summary || (answer.error && answer.error.message) || String(response.status);
      result.dataset.ok = String(ok);
      if (ok) for (const input of form.querySelectorAll('input[name="text"]')) input.value = '';
    } catch (error) {
      result.textContent = form.dataset.action + ' failed: ' + error.message;
      result.dataset.ok = 'false';
    }
  });
})();
`;
