/**
 * GET /handover/{conversationId}: the state of one handover. The id `active` with `?sessionId=` finds the newest
 * open handover of a Cognigy session, for a flow that kept only its own session id.
 */
import type { ApiRequest, ApiResponse } from '../shared/http';
import { tenancyOf, visibleTo } from '../shared/tenancy';
import { HandoverError, HandoverNotFoundError, HandoverValidationError } from './error-codes';
import { isClosed, type ConversationRecord, type ConversationStore } from './ports';
import { publicView } from './record';
import { conversationIdFrom } from './conversation-id';

export const ACTIVE_LOOKUP_ID = 'active';

export interface StatusDeps {
  store: ConversationStore;
  /** UNOWNED_RECORDS_OWNER (functions/shared/tenancy.ts). */
  unownedRecordsOwner?: string;
}

/** The newest open handover of a session (by createdAt), if any. */
export function newestOpen(records: readonly ConversationRecord[]): ConversationRecord | undefined {
  return records
    .filter((r) => !isClosed(r.status))
    .reduce<ConversationRecord | undefined>(
      (best, r) => (!best || r.createdAt > best.createdAt ? r : best),
      undefined,
    );
}

export async function getHandoverStatus(request: ApiRequest, deps: StatusDeps): Promise<ApiResponse> {
  if (request.pathParameters.conversationId === ACTIVE_LOOKUP_ID) {
    const sessionId = (request.query.sessionId ?? '').trim();
    if (sessionId === '') {
      throw new HandoverValidationError([
        {
          path: 'sessionId',
          code: 'SESSION_ID_REQUIRED',
          message: 'GET /handover/active needs ?sessionId=<Cognigy session id>',
        },
      ]);
    }
    if (sessionId.length > 512)
      throw new HandoverError('FIELD_TOO_LONG', 'sessionId is longer than 512 characters');
    const tenancy = tenancyOf(request, deps);
    const record = newestOpen(
      (await deps.store.findBySession(sessionId)).filter((r) => visibleTo(r.owner, tenancy)),
    );
    if (!record) throw new HandoverNotFoundError('This session has no open handover');
    return { statusCode: 200, body: publicView(record) };
  }
  const conversationId = conversationIdFrom(request.pathParameters);
  const record = await deps.store.get(conversationId);
  // Another key's handover is answered exactly like an unknown one, so ids cannot be probed across tenants.
  if (!record || !visibleTo(record.owner, tenancyOf(request, deps)))
    throw new HandoverNotFoundError(`No handover with conversation id ${conversationId}`);
  return { statusCode: 200, body: publicView(record) };
}
