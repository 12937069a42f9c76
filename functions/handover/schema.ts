/**
 * Request and answer schemas of the handover routes. The request schemas check shape, types and unknown fields
 * and are what lib/openapi.ts turns into the OpenAPI document; rules that need more than a shape
 * (languages, URLs, property and transcript normalisation) are applied by the `normalise*` functions below, which
 * collect every problem with a stable code (error-codes.ts).
 *
 * Optional fields accept `null` and `""` as "not given": Cognigy's HTTP Request node renders an unset
 * `{{context.x}}` as an empty string. Ids may arrive as numbers (a JSON editor with `$cs`), so they are coerced
 * to strings.
 */
import { BRIDGE_EVENT_ID_PATTERN } from '../shared/cognigy-client';
import { errorBodySchema } from '../shared/error-body';
import {
  CLOUD_URL_POLICY,
  outboundUrlMessage,
  outboundUrlProblem,
  type OutboundUrlPolicy,
} from '../shared/outbound-url';
import * as z from '../shared/zod';
import { HandoverValidationError, type HandoverErrorCode, type HandoverIssue } from './error-codes';
import type { HistoryMessage } from './ports';

/** 8x8 Chat Gateway `user.language` values (OAS Language: 21 codes; default `en`). */
export const EIGHT_BY_EIGHT_LANGUAGES = [
  'en', 'ru', 'de', 'ja', 'es', 'fr', 'pt', 'it', 'pl', 'hr', 'nl',
  'ar', 'da', 'ko', 'no', 'sv', 'vi', 'cy', 'th', 'zh-CN', 'zh-TW',
] as const; // prettier-ignore
export type EightByEightLanguage = (typeof EIGHT_BY_EIGHT_LANGUAGES)[number];

/** Longest user text relayed to the agent. 8x8 documents no limit; this keeps one message well inside a chat bubble and the route's 16 kB body. */
export const MESSAGE_TEXT_MAX_CHARS = 8000;
/** Longest custom property key; 8x8 documents none, and longer keys do not fit the agent's details panel. */
export const PROPERTY_KEY_MAX_CHARS = 100;

// The conversation id pieces live in conversation-id.ts, so the webhook and the status route need not load (and
// build) every handover schema for them (issue 13, cold starts).
export { CONVERSATION_ID_PATTERN, conversationIdFrom, conversationIdSchema } from './conversation-id';

const absent = z.union([z.null(), z.literal('')]);
/** Adds the description the OpenAPI document shows for a schema. */
const describe = <T extends z.ZodMiniType>(schema: T, description: string): T =>
  schema.check(z.describe(description));
/** Optional string that may also arrive as null or "". */
const optionalString = (max: number) => z.optional(z.union([z.string().check(z.maxLength(max)), z.null()]));
/** A string of 1 to `max` characters. */
const requiredString = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
/** An id that may be sent as a JSON number by a `$cs` expression. */
const idValue = (max: number) => z.union([requiredString(max), z.number().check(z.int(), z.nonnegative())]);
const integer = () => z.number().check(z.int());

export const cognigySessionSchema = describe(
  z.strictObject({
    userId: describe(requiredString(512), 'Cognigy `input.userId`'),
    sessionId: describe(requiredString(512), 'Cognigy `input.sessionId`'),
    URLToken: describe(
      requiredString(512),
      'Cognigy `input.URLToken` of the Endpoint; the credential of its inject/notify routes, never logged or returned',
    ),
    endpointBaseUrl: optionalString(2048).check(
      z.describe('Endpoint base URL, e.g. https://endpoint-app.cognigy.ai; defaults to the `cognigy` secret'),
      z.meta({ format: 'uri' }),
    ),
  }),
  'The Cognigy session the agent chat belongs to; agent messages and events are pushed into it',
);

export const customerSchema = describe(
  z.strictObject({
    name: describe(optionalString(255), 'Shown to the agent as the customer name'),
    email: optionalString(254).check(z.describe('E-mail address'), z.meta({ format: 'email' })),
    phone: describe(optionalString(64), 'Phone number as the agent should see it'),
    language: describe(
      optionalString(35),
      `8x8 routing language: ${EIGHT_BY_EIGHT_LANGUAGES.join(', ')}; locale tags such as en-US or de_DE are mapped to them. Default en.`,
    ),
    company: optionalString(255),
    caseId: describe(optionalString(255), 'Case id shown to the agent'),
    customerId: describe(
      optionalString(255),
      "8x8 `user.userId`: a customer id in 8x8's native CRM triggers a screen pop",
    ),
  }),
  'Customer details shown to the agent (8x8 `user`)',
);

const propertyValueSchema = describe(
  z.unknown(),
  'String, number or boolean (sent as text); objects and arrays are sent as JSON; null leaves the property out',
);

export const propertiesSchema = describe(
  z.union([
    z.record(z.string(), propertyValueSchema),
    z.array(z.strictObject({ key: z.string(), value: propertyValueSchema })),
  ]),
  'Custom properties for the agent (8x8\'s "JSON properties" → `user.additionalProperties`): an object map or a list of {key, value}. ' +
    'At most 30 reach 8x8 (reserved ones such as the Copilot link first, then yours in the given order); values longer than 1000 characters are cut.',
);

const transcriptAuthor = z.enum(['user', 'bot', 'agent']);

/**
 * One transcript entry. Entries are loose (extra fields such as `timestamp`, `data` or `type` are ignored)
 * because Cognigy transcripts carry them. The author is `source` (Cognigy webchat), `authorType` (8x8 history)
 * or `role` (Cognigy transcript: user / assistant); the text is `text` or `payload.text`.
 */
export const transcriptEntrySchema = z.looseObject({
  source: z.optional(transcriptAuthor),
  authorType: z.optional(transcriptAuthor),
  role: z.optional(z.enum(['user', 'assistant', 'bot', 'agent'])),
  text: z.optional(z.union([z.string(), z.null()])),
  payload: z.optional(z.looseObject({ text: z.optional(z.union([z.string(), z.null()])) })),
});

export const transcriptSchema = describe(
  z.array(transcriptEntrySchema),
  'The bot conversation so far, oldest first: [{source: user|bot|agent, text}] or [{authorType: user|bot, text}]. ' +
    'Entries without text are skipped; the most recent 200 reach 8x8.',
);

/** POST /handover */
export const startHandoverRequestSchema = describe(
  z.strictObject({
    cognigy: cognigySessionSchema,
    channelId: describe(idValue(128), '8x8 Chat API channel id (Configuration Manager → Channels)'),
    queueId: describe(
      z.optional(z.union([idValue(128), absent])),
      "8x8 queue id (→ `assignment {type: queue}`); without it the channel's queue is used",
    ),
    scriptId: describe(
      z.optional(z.union([idValue(128), absent])),
      '8x8 script id (→ `assignment {type: script}`), instead of queueId',
    ),
    customer: z.optional(customerSchema),
    properties: z.optional(z.union([propertiesSchema, absent])),
    transcript: z.optional(z.union([transcriptSchema, absent])),
    replace: describe(
      z.optional(z.union([z.boolean(), z.null()])),
      'true: end the open chat of this session (as POST …/end does) and start a new one. Without it a session ' +
        'that has an open chat gets that chat back (200, same conversationId)',
    ),
  }),
  'Start a handover to an 8x8 Contact Center agent (one open chat per Cognigy session)',
);

/** POST /handover/{conversationId}/messages */
export const handoverMessageRequestSchema = describe(
  z.strictObject({
    text: describe(
      z.optional(z.string().check(z.maxLength(MESSAGE_TEXT_MAX_CHARS))),
      "Required: the user's text for the agent (`{{input.text}}`); may be empty or left out only with `bridgeEventId`",
    ),
    userId: describe(optionalString(512), 'When given, must match the session that started the handover'),
    sessionId: describe(
      optionalString(512),
      'Required: the Cognigy `input.sessionId` that started the handover',
    ),
    clientMessageId: describe(
      optionalString(350),
      'Your id for this message; a repeat within 5 minutes is sent once',
    ),
    bridgeEventId: describe(
      optionalString(512),
      'Send `{{input.data.bridgeEventId}}`: set (sms:… or 8x8-chat:…) when the input is a push of the bridge itself ' +
        '(an agent event or SMS status injected into the session), which is answered 200 with `ignored: "bridgeEvent"` ' +
        'and relayed to nobody; empty for what the user typed',
    ),
  }),
  "Relay the user's text to the agent",
);

/** POST /handover/{conversationId}/end (the body is optional) */
export const handoverEndRequestSchema = describe(
  z.strictObject({
    userId: describe(optionalString(512), 'When given, must match the session that started the handover'),
    sessionId: describe(
      optionalString(512),
      'Required: the Cognigy `input.sessionId` that started the handover',
    ),
  }),
  "End the agent chat from the user's side",
);

// ---- Answers (documentation for the OpenAPI document; the cores build these shapes) ----

export const handoverStatusSchema = z.enum(['queue', 'active', 'completed', 'cancelled', 'error']);

export const startHandoverResponseSchema = z.object({
  ok: z.literal(true),
  conversationId: z.string(),
  handover: describe(
    z.object({ status: handoverStatusSchema }),
    '"queue" for a new chat; the stored status when the session already had an open chat',
  ),
  existing: describe(
    z.optional(z.literal(true)),
    'Present (200) when the session already had this open chat, or a repeat waited for the start in flight',
  ),
  replaced: describe(
    z.optional(z.string()),
    'With replace: true, the conversationId of the chat that was ended first',
  ),
  trimmed: describe(
    z.optional(
      z.object({
        history: describe(integer(), 'Oldest transcript entries left out (8x8 takes 200)'),
        properties: describe(integer(), 'Custom properties left out (8x8 takes 30)'),
        truncatedValues: describe(integer(), 'Property values cut to 1000 characters'),
      }),
    ),
    'Present when something had to be left out to fit 8x8',
  ),
});

export const handoverMessageResponseSchema = z.object({
  ok: z.literal(true),
  queued: describe(
    z.boolean(),
    'true (202): on its way to the agent; false (200): a bridge push, nothing sent',
  ),
  conversationId: z.string(),
  clientMessageId: z.optional(z.string()),
  ignored: describe(
    z.optional(z.literal('bridgeEvent')),
    'The input was a push of the bridge itself (`bridgeEventId` set): nothing was relayed',
  ),
});

export const handoverEndResponseSchema = z.object({
  ok: z.literal(true),
  conversationId: z.string(),
  handover: z.object({ status: handoverStatusSchema }),
  alreadyEnded: z.optional(z.boolean()),
});

export const handoverStatusResponseSchema = z.object({
  ok: z.literal(true),
  conversationId: z.string(),
  handover: z.object({ status: handoverStatusSchema }),
  agent: z.optional(z.object({ id: z.string() })),
  channelId: z.string(),
  queueId: z.optional(z.string()),
  queueName: z.optional(z.string()),
  scriptId: z.optional(z.string()),
  createdAt: describe(z.string(), 'When POST /handover created it (ISO 8601)'),
  queuedAt: describe(z.optional(z.string()), 'When 8x8 last queued it (QUEUED; again after a transfer)'),
  activeAt: describe(z.optional(z.string()), 'When the current agent joined'),
  endedAt: z.optional(z.string()),
  endReason: describe(
    z.optional(z.enum(['agentLeft', 'idle', 'userEnded', 'userLeft', 'conversationGone'])),
    'agentLeft / idle: the agent or 8x8 ended it; userEnded: POST .../end; userLeft: 8x8 reported the user leaving; conversationGone: 8x8 no longer knows it',
  ),
  lastError: z.optional(
    z.object({
      at: z.string(),
      source: z.enum(['8x8', 'cognigy']),
      operation: z.string(),
      httpStatus: z.optional(z.number()),
      code: z.optional(z.string()),
      message: z.string(),
    }),
  ),
});

/**
 * Every failure of POST /handover: the usual error body plus `handover: {status: "error"}`, Cognigy's value for a
 * failed handover, so a flow branches on the same field as on success (README, "The flow recipe").
 */
export const startHandoverErrorSchema = z.extend(errorBodySchema, {
  handover: describe(
    z.optional(z.object({ status: z.literal('error') })),
    "On every failure the bridge answers; absent only on the gateway's own refusals (403 API key, 429 throttling)",
  ),
});

/** Request schemas by function, for the OpenAPI document. */
export const handoverRequestSchemas = {
  'handover-start': startHandoverRequestSchema,
  'handover-message': handoverMessageRequestSchema,
  'handover-end': handoverEndRequestSchema,
} as const;

/** Success answers by function, for the OpenAPI document. */
export const handoverResponseSchemas = {
  'handover-start': startHandoverResponseSchema,
  'handover-message': handoverMessageResponseSchema,
  'handover-end': handoverEndResponseSchema,
  'handover-status': handoverStatusResponseSchema,
} as const;

// ---- Normalised inputs ----

export interface StartHandoverInput {
  cognigy: { userId: string; sessionId: string; urlToken: string; endpointBaseUrl?: string };
  channelId: string;
  assignment?: { type: 'queue' | 'script'; id: string };
  customer: {
    name?: string;
    email?: string;
    phone?: string;
    language?: EightByEightLanguage;
    company?: string;
    caseId?: string;
    customerId?: string;
  };
  /** Custom properties in the given order, values as text (not yet limited; see start.ts). */
  properties: { key: string; value: string }[];
  /** Transcript entries with text, oldest first, mapped to 8x8's author types. */
  transcript: HistoryMessage[];
  /** End the session's open chat first (`replace: true`). */
  replace: boolean;
}

/** A relay request for an input the bridge itself pushed (`bridgeEventId` set): answered without relaying. */
export interface BridgeEventInput {
  bridgeEventId: string;
}

export interface HandoverMessageInput {
  text: string;
  userId?: string;
  sessionId: string;
  clientMessageId?: string;
}

export interface HandoverEndInput {
  userId?: string;
  sessionId: string;
}

/** Codes for zod issues on particular fields; everything else gets a generic code by issue kind. */
const FIELD_CODES: { path: RegExp; kinds: string[]; code: HandoverErrorCode }[] = [
  { path: /^customer\.email$/, kinds: ['invalid_format'], code: 'INVALID_EMAIL' },
  { path: /^text$/, kinds: ['too_big'], code: 'TEXT_TOO_LONG' },
  {
    path: /^properties/,
    kinds: ['invalid_type', 'invalid_union', 'too_big', 'too_small'],
    code: 'INVALID_PROPERTY',
  },
  {
    path: /^transcript\[\d+\]\.(source|authorType|role)$/,
    kinds: ['invalid_value'],
    code: 'INVALID_TRANSCRIPT',
  },
];

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

/** Turns zod issues into HandoverIssues with stable codes; union failures report the branch that got furthest. */
export function issuesFromZod(
  error: { readonly issues: readonly z.core.$ZodIssue[] },
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): HandoverIssue[] {
  const out: HandoverIssue[] = [];
  for (const issue of error.issues) {
    const fullPath = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branches = issue.errors.filter((b) => b.length > 0);
      const best = branches.reduce((a, b) => (depth(b) > depth(a) ? b : a), branches[0] ?? []);
      if (depth(best) > 0) {
        out.push(...issuesFromZod({ issues: best }, input, fullPath));
        continue;
      }
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({
          path: formatPath([...fullPath, key]),
          code: 'UNKNOWN_FIELD',
          message: `Unknown field ${formatPath([...fullPath, key])}`,
        });
      }
      continue;
    }
    const path = formatPath(fullPath);
    const special = FIELD_CODES.find((f) => f.path.test(path) && f.kinds.includes(issue.code));
    const missing = valueAt(input, fullPath) === undefined;
    let code: HandoverErrorCode;
    let message: string;
    if (special) {
      code = special.code;
      message = `${path}: ${issue.message}`;
    } else if (path === '' && issue.code === 'invalid_type') {
      code = 'INVALID_BODY';
      message = 'The body must be a JSON object';
    } else if (issue.code === 'invalid_type' && missing) {
      code = 'MISSING_FIELD';
      message = `${path} is required`;
    } else if (issue.code === 'too_small' && issue.origin === 'string') {
      code = 'MISSING_FIELD';
      message = `${path} must not be empty`;
    } else if (issue.code === 'too_big') {
      code = 'FIELD_TOO_LONG';
      message = `${path} is longer than ${String(issue.maximum)} characters`;
    } else {
      code = 'INVALID_TYPE';
      message = `${path}: ${issue.message}`;
    }
    out.push({ path, code, message });
  }
  return out;
}

function depth(issues: readonly z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length + 1));
}

/** "" and null mean "not given"; other strings are trimmed of surrounding whitespace. */
function given(value: string | number | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const text = String(value).trim();
  return text === '' ? undefined : text;
}

/**
 * Maps a language or locale tag to 8x8's code: exact codes, then Chinese script/region variants, then the primary
 * subtag (en-US → en, nb-NO → no). Undefined when 8x8 has no such language.
 */
export function toEightByEightLanguage(tag: string): EightByEightLanguage | undefined {
  const normal = tag.trim().replace(/_/g, '-').toLowerCase();
  const exact = EIGHT_BY_EIGHT_LANGUAGES.find((l) => l.toLowerCase() === normal);
  if (exact) return exact;
  const [primary, ...rest] = normal.split('-');
  if (primary === 'zh') {
    if (rest.some((p) => ['hant', 'tw', 'hk', 'mo'].includes(p))) return 'zh-TW';
    return 'zh-CN';
  }
  if (primary === 'nb' || primary === 'nn') return 'no';
  return EIGHT_BY_EIGHT_LANGUAGES.find((l) => l === primary);
}

/** Property values are text for 8x8: scalars as written, objects and arrays as JSON. */
function propertyText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}

function authorOf(entry: z.infer<typeof transcriptEntrySchema>): HistoryMessage['authorType'] | undefined {
  const author = entry.source ?? entry.authorType ?? entry.role;
  if (author === undefined) return undefined;
  // 8x8 history knows only user and bot; earlier agent turns and assistant turns are the "other side" of the user.
  return author === 'user' ? 'user' : 'bot';
}

function parseOrThrow<T extends z.ZodMiniType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new HandoverValidationError(issuesFromZod(parsed.error, body));
  return parsed.data;
}

/**
 * Validates and normalises a POST /handover body; throws HandoverValidationError listing every problem. `urls`:
 * the relay posts agent messages to `cognigy.endpointBaseUrl`, so it must be https on a public host (SSRF); local
 * mode also takes loopback.
 */
export function normaliseStartRequest(
  body: unknown,
  urls: OutboundUrlPolicy = CLOUD_URL_POLICY,
): StartHandoverInput {
  const request = parseOrThrow(startHandoverRequestSchema, body);
  const issues: HandoverIssue[] = [];

  const endpointBaseUrl = given(request.cognigy.endpointBaseUrl);
  const urlProblem = endpointBaseUrl === undefined ? undefined : outboundUrlProblem(endpointBaseUrl, urls);
  if (urlProblem) {
    issues.push({
      path: 'cognigy.endpointBaseUrl',
      code: 'INVALID_URL',
      message: outboundUrlMessage('cognigy.endpointBaseUrl', urlProblem),
    });
  }
  const channelId = given(request.channelId);
  if (channelId === undefined)
    issues.push({ path: 'channelId', code: 'MISSING_FIELD', message: 'channelId must not be empty' });

  const queueId = given(request.queueId);
  const scriptId = given(request.scriptId);
  if (queueId !== undefined && scriptId !== undefined) {
    issues.push({
      path: 'scriptId',
      code: 'INVALID_ASSIGNMENT',
      message: 'Give queueId or scriptId, not both',
    });
  }

  const customer: StartHandoverInput['customer'] = {};
  const c = request.customer ?? {};
  for (const field of ['name', 'phone', 'company', 'caseId', 'customerId'] as const) {
    const value = given(c[field]);
    if (value !== undefined) customer[field] = value;
  }
  const email = given(c.email);
  if (email !== undefined) {
    if (z.email().safeParse(email).success) customer.email = email;
    else
      issues.push({
        path: 'customer.email',
        code: 'INVALID_EMAIL',
        message: 'customer.email is not an e-mail address',
      });
  }
  const languageTag = given(c.language);
  if (languageTag !== undefined) {
    const language = toEightByEightLanguage(languageTag);
    if (language) customer.language = language;
    else {
      issues.push({
        path: 'customer.language',
        code: 'INVALID_LANGUAGE',
        message: `customer.language "${languageTag.slice(0, 35)}" is not supported by 8x8; use one of ${EIGHT_BY_EIGHT_LANGUAGES.join(', ')}`,
      });
    }
  }

  const properties: StartHandoverInput['properties'] = [];
  // null and "" (an empty Cognigy token) mean none.
  const rawProperties = request.properties || [];
  const entries = Array.isArray(rawProperties)
    ? rawProperties.map((p, i) => ({ key: p.key, value: p.value, path: `properties[${i}]` }))
    : Object.entries(rawProperties).map(([key, value]) => ({ key, value, path: `properties.${key}` }));
  for (const { key, value, path } of entries) {
    const cleanKey = key.trim();
    if (cleanKey === '' || cleanKey.length > PROPERTY_KEY_MAX_CHARS) {
      issues.push({
        path,
        code: 'INVALID_PROPERTY',
        message: `Property keys must have 1 to ${PROPERTY_KEY_MAX_CHARS} characters (${path})`,
      });
      continue;
    }
    const text = propertyText(value);
    if (text !== undefined) properties.push({ key: cleanKey, value: text });
  }

  const transcript: HistoryMessage[] = [];
  (request.transcript || []).forEach((entry, i) => {
    const authorType = authorOf(entry);
    if (!authorType) {
      issues.push({
        path: `transcript[${i}]`,
        code: 'INVALID_TRANSCRIPT',
        message: `transcript[${i}] needs source, authorType or role (user, bot, agent, assistant)`,
      });
      return;
    }
    const text = entry.text ?? entry.payload?.text;
    if (typeof text === 'string' && text.trim() !== '') transcript.push({ authorType, text });
  });

  if (issues.length > 0) throw new HandoverValidationError(issues);
  return {
    cognigy: {
      userId: request.cognigy.userId,
      sessionId: request.cognigy.sessionId,
      urlToken: request.cognigy.URLToken,
      ...(endpointBaseUrl !== undefined ? { endpointBaseUrl: endpointBaseUrl.replace(/\/+$/, '') } : {}),
    },
    channelId: channelId as string,
    ...(queueId !== undefined ? { assignment: { type: 'queue' as const, id: queueId } } : {}),
    ...(scriptId !== undefined ? { assignment: { type: 'script' as const, id: scriptId } } : {}),
    customer,
    properties,
    transcript,
    replace: request.replace === true,
  };
}

/**
 * The session proof of …/messages and …/end: the Cognigy sessionId that started the handover. With it a flow (or
 * another tenant) that learnt a conversation id cannot write into someone else's chat.
 */
function requiredSessionId(value: string | null | undefined): string {
  const sessionId = given(value);
  if (sessionId === undefined) {
    throw new HandoverValidationError([
      {
        path: 'sessionId',
        code: 'SESSION_ID_REQUIRED',
        message: 'sessionId is required: send the Cognigy input.sessionId that started the handover',
      },
    ]);
  }
  return sessionId;
}

/**
 * Validates a POST /handover/{id}/messages body. A body whose `bridgeEventId` names a push of the bridge (the flow's
 * relay step ran for an injected agent event or SMS status, whose `input.text` is empty) is returned as such, before
 * the text and session checks: the route answers it with a no-op, so the flow cannot break itself.
 */
export function normaliseMessageRequest(body: unknown): HandoverMessageInput | BridgeEventInput {
  const request = parseOrThrow(handoverMessageRequestSchema, body);
  const bridgeEventId = given(request.bridgeEventId);
  if (bridgeEventId !== undefined) {
    if (!BRIDGE_EVENT_ID_PATTERN.test(bridgeEventId)) {
      throw new HandoverValidationError([
        {
          path: 'bridgeEventId',
          code: 'INVALID_TYPE',
          message:
            'bridgeEventId is not an id the bridge pushes (sms:… or 8x8-chat:…); send {{input.data.bridgeEventId}} or leave it empty',
        },
      ]);
    }
    return { bridgeEventId };
  }
  if (request.text === undefined) {
    throw new HandoverValidationError([{ path: 'text', code: 'MISSING_FIELD', message: 'text is required' }]);
  }
  if (request.text.trim() === '') {
    throw new HandoverValidationError([
      { path: 'text', code: 'TEXT_MISSING', message: 'text must not be empty' },
    ]);
  }
  const userId = given(request.userId);
  const sessionId = requiredSessionId(request.sessionId);
  const out: HandoverMessageInput = { text: request.text, sessionId };
  const clientMessageId = given(request.clientMessageId);
  if (userId !== undefined) out.userId = userId;
  if (clientMessageId !== undefined) out.clientMessageId = clientMessageId;
  return out;
}

/** Validates a POST /handover/{id}/end body; an empty body is fine. */
export function normaliseEndRequest(body: unknown): HandoverEndInput {
  const request = parseOrThrow(handoverEndRequestSchema, body ?? {});
  const out: HandoverEndInput = { sessionId: requiredSessionId(request.sessionId) };
  const userId = given(request.userId);
  if (userId !== undefined) out.userId = userId;
  return out;
}
