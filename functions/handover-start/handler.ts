import { apiHandler } from '../shared/http';
import { handoverRuntime } from '../handover/wiring';
import { startHandoverApi } from '../handover/start';

/** POST /handover: create the 8x8 Chat Gateway conversation for a Cognigy session. */
export const handler = apiHandler(
  'handover-start',
  (request) => {
    const rt = handoverRuntime();
    return startHandoverApi(request, {
      store: rt.store,
      sessions: rt.sessions,
      chatGateway: rt.chatGateway,
      clock: rt.clock,
      ids: rt.ids,
      startWaitMs: rt.settings.handoverStartWaitMs,
      ...(rt.unownedRecordsOwner ? { unownedRecordsOwner: rt.unownedRecordsOwner } : {}),
      cognigyConfig: rt.cognigyConfig,
      upstreamTimeoutMs: rt.settings.upstreamTimeoutMs,
      allowLoopbackUrls: rt.settings.allowLoopbackUrls,
    });
  },
  // Failures before the core (malformed JSON, body too large) carry it too: flows branch on handover.status.
  { errorBodyExtra: { handover: { status: 'error' } } },
);
