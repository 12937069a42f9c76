/**
 * 8x8 conversation ids: the catalogue's pattern for the `{conversationId}` routes, the webhook's events (events.ts)
 * and the OpenAPI document. Apart from schema.ts so that a function needing only these does not load and build
 * every handover request schema (issue 13, cold starts); schema.ts re-exports them.
 */
import { PATH_PARAMETERS } from '../shared/catalogue';
import * as z from '../shared/zod';
import { HandoverValidationError } from './error-codes';

const conversationIdParameter = PATH_PARAMETERS.get('conversationId');
if (!conversationIdParameter) throw new Error('The catalogue has no conversationId path parameter');

/** 8x8 conversation ids are opaque (`ID-0`, `vXg39aMTRlq4xCBFaUCTlA`, `-x_…`): one pattern for all their uses. */
export const CONVERSATION_ID_PATTERN = new RegExp(conversationIdParameter.pattern);

/** A conversation id as 8x8 can issue it (used by the webhook's event schema). */
export const conversationIdSchema = z.string().check(z.regex(CONVERSATION_ID_PATTERN));

/** Checks the `{conversationId}` path parameter. */
export function conversationIdFrom(pathParameters: Record<string, string>): string {
  const id = pathParameters.conversationId ?? '';
  if (!CONVERSATION_ID_PATTERN.test(id)) {
    throw new HandoverValidationError([
      {
        path: 'conversationId',
        code: 'INVALID_CONVERSATION_ID',
        message: 'The conversation id in the path is not an 8x8 conversation id',
      },
    ]);
  }
  return id;
}
