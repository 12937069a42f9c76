/**
 * The shape of every error answer: `errorBody` (http.ts) in the functions, the local gateway's own refusals and
 * API Gateway's gateway responses (lib/constructs/bridge-api.ts). Documentation for the OpenAPI document
 * (lib/openapi.ts), which tests check real answers against; the answers themselves are built where they happen.
 */
import { ERROR_CODES } from './error-catalogue';
import * as z from './zod';

const describe = <T extends z.ZodMiniType>(schema: T, description: string): T =>
  schema.check(z.describe(description));
const integer = () => z.number().check(z.int());

/** One problem with one field of the request (or of an 8x8 webhook body). */
export const issueSchema = z.object({
  path: describe(z.string(), 'JSON path of the field, e.g. `messages[2].destination`; "" for the whole body'),
  code: describe(z.string(), 'Stable code of this problem (see `x-error-codes`)'),
  message: z.string(),
});

/** Facts about a failure that is not a field problem: when to retry, what 8x8 answered, the handover's state. */
export const errorFactsSchema = z.object({
  retryAfterSeconds: describe(
    z.optional(integer()),
    'Retry after this many seconds (also sent as Retry-After)',
  ),
  httpStatus: describe(z.optional(integer()), "8x8's HTTP status"),
  upstreamCode: describe(z.optional(z.string()), "8x8's error code, or TIMEOUT / NETWORK"),
  reason: describe(z.optional(z.string()), "8x8's reason, as 8x8 gave it"),
  status: describe(
    z.optional(z.string()),
    'HANDOVER_CLOSED: the handover status it ended with (completed, cancelled or error)',
  ),
});

export const ERROR_CODE_NAMES = Object.keys(ERROR_CODES) as [string, ...string[]];

export const errorBodySchema = z.object({
  ok: z.literal(false),
  error: z.object({
    code: describe(z.enum(ERROR_CODE_NAMES), 'Stable error code to branch on (every code: `x-error-codes`)'),
    message: describe(z.string(), 'What went wrong, for people; may change between versions'),
    details: describe(
      z.optional(z.union([z.array(issueSchema), errorFactsSchema])),
      'Validation failures: every problem, by JSON path. Other failures: facts such as retryAfterSeconds',
    ),
  }),
});
